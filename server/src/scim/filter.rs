//! SCIM filter and PATCH path parsing (RFC 7644 §3.4.2.2, §3.5.2): text in, a typed tree out.
//! Pure: no SQL and no schema knowledge, so an unknown attribute is the caller's `invalidFilter`.
//! Input is at most `MAX_FILTER_LEN` bytes, and both the tree and the parser's recursion are at
//! most `MAX_DEPTH` levels deep, so no filter can exhaust the stack. Operators and keywords are
//! case-insensitive; names are kept as written. Error positions are 0-based character offsets.

use std::iter::{Enumerate, Peekable};
use std::str::Chars;
use std::vec::IntoIter;

use serde_json::Number;

pub const MAX_FILTER_LEN: usize = 4096;
pub const MAX_DEPTH: usize = 32;

/// `[schema ":"] attr ["." sub_attr]`, e.g. `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`.
/// Names are as written: callers compare them case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub attr: String,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// Whether `attr` is `name`, ignoring case and the schema.
    pub fn matches(&self, name: &str) -> bool {
        self.attr.eq_ignore_ascii_case(name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator spelled `word`, in any case.
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompValue {
    String(String),
    Number(Number),
    Bool(bool),
    Null,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: `filter`'s paths are relative to `attr` (sub-attributes of it).
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Levels in the tree: 1 for a comparison or `pr`, one more for each node above it.
    /// Iterative, so it is safe on trees built by hand as well as parsed ones.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1)];
        while let Some((filter, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            match filter {
                Filter::And(left, right) | Filter::Or(left, right) => {
                    stack.push((left, depth + 1));
                    stack.push((right, depth + 1));
                }
                Filter::Not(inner) | Filter::ValuePath { filter: inner, .. } => {
                    stack.push((inner, depth + 1))
                }
                Filter::Compare { .. } | Filter::Present(_) => {}
            }
        }
        deepest
    }
}

/// A PATCH `path`: `attrPath`, or `valuePath` optionally followed by `.subAttr`
/// (e.g. `emails[type eq "work"].value`, `members[value eq "id"]`, `name.familyName`,
/// `urn:...:enterprise:2.0:User:manager`). `attr.sub_attr` holds a sub-attribute written before
/// any `[`; `sub_attr` holds the one written after `]`, so at most one of them is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub value_filter: Option<Filter>,
    pub sub_attr: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct FilterError {
    pub message: String,
    /// 0-based character offset into the input; the input's length when it ended too soon.
    pub position: usize,
}

impl FilterError {
    fn new(position: usize, message: impl Into<String>) -> Self {
        Self { message: message.into(), position }
    }
}

/// ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA (RFC 7643 §2.1).
pub fn is_valid_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Parses a `filter` query parameter (or `filter` of a search request).
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    check_len(input)?;
    whole_filter(Parser::new(input, "filter")?)
}

fn whole_filter(mut parser: Parser) -> Result<Filter, FilterError> {
    if parser.at_end() {
        return Err(FilterError::new(0, "the filter is empty"));
    }
    let node = parser.or_expr(0, false, None)?;
    match parser.tokens.next() {
        None => Ok(node.filter),
        Some(token @ Token { kind: Kind::Close | Kind::CloseBracket, .. }) => {
            Err(FilterError::new(token.pos, format!("unexpected {}", token.describe())))
        }
        Some(token) => Err(FilterError::new(
            token.pos,
            format!(r#"expected "and", "or" or the end of the filter, found {}"#, token.describe()),
        )),
    }
}

/// Parses the `path` of a PATCH operation.
pub fn parse_path(input: &str) -> Result<PatchPath, FilterError> {
    check_len(input)?;
    let mut parser = Parser::new(input, "path")?;
    let (word, pos) = match parser.tokens.next() {
        None => return Err(FilterError::new(0, "the path is empty")),
        Some(Token { kind: Kind::Word(word), pos }) => (word, pos),
        Some(token) => {
            return Err(FilterError::new(
                token.pos,
                format!("expected an attribute path, found {}", token.describe()),
            ));
        }
    };
    let attr = attr_path(&word, pos)?;
    let mut path = PatchPath { attr, value_filter: None, sub_attr: None };
    if let Some(open) = parser.take(&Kind::OpenBracket) {
        path.value_filter = Some(parser.value_filter(&path.attr, &word, open, 0)?.filter);
        if let Some((sub, sub_pos)) = parser.take_sub_attr() {
            path.sub_attr = Some(sub_attr_after_bracket(&sub, sub_pos)?);
        }
    }
    match parser.tokens.next() {
        None => Ok(path),
        Some(token) => {
            Err(FilterError::new(token.pos, format!("unexpected {} after the path", token.describe())))
        }
    }
}

// ---- lexing ----

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A run of anything but whitespace, brackets and quotes: a path, keyword, number or junk.
    Word(String),
    Str {
        raw: String,
        value: String,
    },
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    pos: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            Kind::Word(word) => quote(word),
            Kind::Str { raw, .. } => format!("the string {raw}"),
            Kind::Open => quote("("),
            Kind::Close => quote(")"),
            Kind::OpenBracket => quote("["),
            Kind::CloseBracket => quote("]"),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, Kind::Word(word) if word.eq_ignore_ascii_case(keyword))
    }

    /// `pr` or a comparison operator: what may follow an attribute path.
    fn is_operator(&self) -> bool {
        matches!(&self.kind, Kind::Word(word) if word.eq_ignore_ascii_case("pr")
            || CompareOp::from_keyword(word).is_some())
    }
}

fn quote(text: &str) -> String {
    format!("{text:?}")
}

type CharStream<'a> = Peekable<Enumerate<Chars<'a>>>;

fn check_len(input: &str) -> Result<(), FilterError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(FilterError::new(0, format!("longer than {MAX_FILTER_LEN} bytes")));
    }
    Ok(())
}

fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().enumerate().peekable();
    while let Some((pos, c)) = chars.next() {
        let kind = match c {
            // The RFC asks for single spaces; tabs, newlines and runs of spaces are tolerated.
            c if c.is_ascii_whitespace() => continue,
            '(' => Kind::Open,
            ')' => Kind::Close,
            '[' => Kind::OpenBracket,
            ']' => Kind::CloseBracket,
            '"' => string(&mut chars, pos)?,
            c => Kind::Word(word(c, &mut chars)),
        };
        tokens.push(Token { kind, pos });
    }
    Ok(tokens)
}

fn ends_word(c: char) -> bool {
    c.is_ascii_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
}

fn word(first: char, chars: &mut CharStream<'_>) -> String {
    let mut word = String::from(first);
    while let Some((_, c)) = chars.next_if(|&(_, c)| !ends_word(c)) {
        word.push(c);
    }
    word
}

/// A JSON string (RFC 8259 §7); the opening quote is already taken.
fn string(chars: &mut CharStream<'_>, start: usize) -> Result<Kind, FilterError> {
    let mut raw = String::from('"');
    let mut escaped = false;
    for (_, c) in chars.by_ref() {
        raw.push(c);
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => {
                let value = serde_json::from_str::<String>(&raw).map_err(|e| {
                    let reason = e.to_string();
                    let reason = reason.split(" at line ").next().unwrap_or(&reason);
                    FilterError::new(start, format!("invalid string {raw}: {reason}"))
                })?;
                return Ok(Kind::Str { raw, value });
            }
            (false, _) => {}
        }
    }
    Err(FilterError::new(start, "unterminated string"))
}

// ---- paths ----

/// `[URI ":"] ATTRNAME ["." ATTRNAME]`: the schema is everything up to the last `:`, since
/// URNs hold colons and dots of their own (`...:enterprise:2.0:User:manager.value`).
fn attr_path(word: &str, pos: usize) -> Result<AttrPath, FilterError> {
    let (schema, rest, rest_pos) = match word.rsplit_once(':') {
        Some(("", _)) => {
            return Err(FilterError::new(
                pos,
                format!("expected a schema URN before \":\" in {}", quote(word)),
            ));
        }
        Some((schema, rest)) => (Some(schema.to_string()), rest, pos + schema.chars().count() + 1),
        None => (None, word, pos),
    };
    let (attr, sub_attr) = match rest.split_once('.') {
        Some((attr, sub)) => (attr, Some((sub, rest_pos + attr.chars().count() + 1))),
        None => (rest, None),
    };
    if attr.is_empty() {
        return Err(FilterError::new(rest_pos, format!("expected an attribute name in {}", quote(word))));
    }
    if !is_valid_attr_name(attr) {
        return Err(FilterError::new(rest_pos, format!("invalid attribute name {}", quote(attr))));
    }
    let sub_attr = match sub_attr {
        None => None,
        Some((sub, sub_pos)) if !is_valid_attr_name(sub) => {
            return Err(FilterError::new(sub_pos, format!("invalid sub-attribute name {}", quote(sub))));
        }
        Some((sub, _)) => Some(sub.to_string()),
    };
    Ok(AttrPath { schema, attr: attr.to_string(), sub_attr })
}

/// The `.subAttr` after a PATCH path's `]`, as a word starting with the dot.
fn sub_attr_after_bracket(word: &str, pos: usize) -> Result<String, FilterError> {
    let name = word.strip_prefix('.').unwrap_or(word);
    if is_valid_attr_name(name) {
        Ok(name.to_string())
    } else {
        Err(FilterError::new(pos + 1, format!("invalid sub-attribute name {}", quote(name))))
    }
}

// ---- parsing ----

/// A parsed filter with its `Filter::depth`, kept alongside so joins are checked in O(1).
struct Node {
    filter: Filter,
    depth: usize,
}

fn too_deep(pos: usize) -> FilterError {
    FilterError::new(pos, format!("nested more than {MAX_DEPTH} levels deep"))
}

/// A node one level above `children_depth`, if that stays within `MAX_DEPTH`.
fn node(pos: usize, children_depth: usize, filter: Filter) -> Result<Node, FilterError> {
    let depth = children_depth + 1;
    if depth > MAX_DEPTH { Err(too_deep(pos)) } else { Ok(Node { filter, depth }) }
}

struct Parser {
    tokens: Peekable<IntoIter<Token>>,
    /// The input's length in characters: the position of "the end".
    end: usize,
    /// "filter" or "path", for "the end of the filter".
    what: &'static str,
}

impl Parser {
    fn new(input: &str, what: &'static str) -> Result<Self, FilterError> {
        let tokens = lex(input)?;
        Ok(Self { tokens: tokens.into_iter().peekable(), end: input.chars().count(), what })
    }

    fn at_end(&mut self) -> bool {
        self.tokens.peek().is_none()
    }

    fn the_end(&self) -> String {
        format!("the end of the {}", self.what)
    }

    /// Takes the next token if it is `kind`, returning its position.
    fn take(&mut self, kind: &Kind) -> Option<usize> {
        self.tokens.next_if(|t| &t.kind == kind).map(|t| t.pos)
    }

    fn take_keyword(&mut self, keyword: &str) -> Option<Token> {
        self.tokens.next_if(|t| t.is_keyword(keyword))
    }

    /// Takes a word starting with `.`: a sub-attribute written after `]`.
    fn take_sub_attr(&mut self) -> Option<(String, usize)> {
        match self.tokens.next_if(|t| matches!(&t.kind, Kind::Word(w) if w.starts_with('.')))? {
            Token { kind: Kind::Word(word), pos } => Some((word, pos)),
            _ => None,
        }
    }

    /// One more level of `(`, `not (` or `[`, opened at `pos`.
    fn nest(nesting: usize, pos: usize) -> Result<usize, FilterError> {
        if nesting >= MAX_DEPTH { Err(too_deep(pos)) } else { Ok(nesting + 1) }
    }

    /// The closing `)` or `]` for the opener at `open`.
    fn close(&mut self, kind: Kind, open: usize) -> Result<(), FilterError> {
        let (closer, opener) = if kind == Kind::Close { (")", "(") } else { ("]", "[") };
        match self.tokens.next() {
            Some(token) if token.kind == kind => Ok(()),
            None => Err(FilterError::new(
                self.end,
                format!(r#"expected "{closer}" to close the "{opener}" at character {open}"#),
            )),
            Some(token) => Err(FilterError::new(
                token.pos,
                format!(r#"expected "and", "or" or "{closer}", found {}"#, token.describe()),
            )),
        }
    }

    /// logExp with `or`: `and` binds tighter (RFC 7644 §3.4.2.2, Table 5), both associate left.
    fn or_expr(&mut self, nesting: usize, in_value: bool, after: Option<&str>) -> Result<Node, FilterError> {
        let mut left = self.and_expr(nesting, in_value, after)?;
        while let Some(keyword) = self.take_keyword("or") {
            let right = self.and_expr(nesting, in_value, Some(&keyword.describe()))?;
            let filter = Filter::Or(Box::new(left.filter), Box::new(right.filter));
            left = node(keyword.pos, left.depth.max(right.depth), filter)?;
        }
        Ok(left)
    }

    fn and_expr(&mut self, nesting: usize, in_value: bool, after: Option<&str>) -> Result<Node, FilterError> {
        let mut left = self.unary(nesting, in_value, after)?;
        while let Some(keyword) = self.take_keyword("and") {
            let right = self.unary(nesting, in_value, Some(&keyword.describe()))?;
            let filter = Filter::And(Box::new(left.filter), Box::new(right.filter));
            left = node(keyword.pos, left.depth.max(right.depth), filter)?;
        }
        Ok(left)
    }

    /// `( filter )`, `not ( filter )` or an attribute expression; `after` names the token
    /// before, for messages.
    fn unary(&mut self, nesting: usize, in_value: bool, after: Option<&str>) -> Result<Node, FilterError> {
        let expected = |found: String| {
            let after = after.map(|a| format!(" after {a}")).unwrap_or_default();
            format!(r#"expected an attribute path, "(" or "not"{after}, found {found}"#)
        };
        let Some(token) = self.tokens.next() else {
            return Err(FilterError::new(self.end, expected(self.the_end())));
        };
        match token.kind {
            Kind::Open => {
                let nesting = Self::nest(nesting, token.pos)?;
                let inner = self.or_expr(nesting, in_value, Some(&token.describe()))?;
                self.close(Kind::Close, token.pos)?;
                Ok(inner)
            }
            // A `not` followed by an operator is an attribute that happens to be called "not".
            Kind::Word(ref word)
                if token.is_keyword("not") && !self.tokens.peek().is_some_and(Token::is_operator) =>
            {
                let Some(open) = self.take(&Kind::Open) else {
                    let end = self.the_end();
                    let found = self.tokens.peek().map_or(end, Token::describe);
                    let pos = self.tokens.peek().map_or(self.end, |t| t.pos);
                    return Err(FilterError::new(
                        pos,
                        format!(r#"expected "(" after {}, found {found}"#, quote(word)),
                    ));
                };
                let nesting = Self::nest(nesting, token.pos)?;
                let inner = self.or_expr(nesting, in_value, Some(&quote("(")))?;
                self.close(Kind::Close, open)?;
                node(token.pos, inner.depth, Filter::Not(Box::new(inner.filter)))
            }
            Kind::Word(_) if token.is_keyword("and") || token.is_keyword("or") => {
                Err(FilterError::new(token.pos, expected(token.describe())))
            }
            Kind::Word(word) if !word.starts_with('.') => self.attr_expr(&word, token.pos, nesting, in_value),
            _ => Err(FilterError::new(token.pos, expected(token.describe()))),
        }
    }

    /// attrExp (`path pr`, `path op value`) or valuePath (`path[valFilter]`).
    fn attr_expr(
        &mut self,
        word: &str,
        pos: usize,
        nesting: usize,
        in_value: bool,
    ) -> Result<Node, FilterError> {
        let path = attr_path(word, pos)?;
        if let Some(open) = self.take(&Kind::OpenBracket) {
            if in_value {
                return Err(FilterError::new(open, "value paths can't be nested"));
            }
            let inner = self.value_filter(&path, word, open, nesting)?;
            if let Some((_, sub_pos)) = self.take_sub_attr() {
                return Err(FilterError::new(
                    sub_pos,
                    "a sub-attribute after \"]\" is allowed in a PATCH path, not in a filter",
                ));
            }
            return node(pos, inner.depth, Filter::ValuePath { attr: path, filter: Box::new(inner.filter) });
        }
        let op = match self.tokens.next() {
            Some(Token { kind: Kind::Word(op), pos: op_pos }) => (op, op_pos),
            Some(token) => {
                return Err(FilterError::new(
                    token.pos,
                    format!("expected an operator after {}, found {}", quote(word), token.describe()),
                ));
            }
            None => {
                return Err(FilterError::new(
                    self.end,
                    format!("expected an operator after {}, found {}", quote(word), self.the_end()),
                ));
            }
        };
        if op.0.eq_ignore_ascii_case("pr") {
            return node(pos, 0, Filter::Present(path));
        }
        let Some(compare) = CompareOp::from_keyword(&op.0) else {
            return Err(FilterError::new(op.1, format!("unknown operator {}", quote(&op.0))));
        };
        let value = self.value(&op.0)?;
        node(pos, 0, Filter::Compare { path, op: compare, value })
    }

    /// The filter inside `path[...]`, with `[` at `open` already taken.
    fn value_filter(
        &mut self,
        path: &AttrPath,
        word: &str,
        open: usize,
        nesting: usize,
    ) -> Result<Node, FilterError> {
        if path.sub_attr.is_some() {
            return Err(FilterError::new(
                open,
                format!("a value path's attribute can't have a sub-attribute: {}", quote(word)),
            ));
        }
        let nesting = Self::nest(nesting, open)?;
        let inner = self.or_expr(nesting, true, Some(&quote("[")))?;
        self.close(Kind::CloseBracket, open)?;
        Ok(inner)
    }

    /// compValue: a JSON string, number, `true`, `false` or `null`.
    fn value(&mut self, op: &str) -> Result<CompValue, FilterError> {
        let expected = format!("expected a value after {}", quote(op));
        let Some(token) = self.tokens.next() else {
            return Err(FilterError::new(self.end, format!("{expected}, found {}", self.the_end())));
        };
        let word = match token.kind {
            Kind::Str { value, .. } => return Ok(CompValue::String(value)),
            Kind::Word(word) => word,
            _ => return Err(FilterError::new(token.pos, format!("{expected}, found {}", token.describe()))),
        };
        // JSON literals are lower case; SCIM clients are not always, so any case is accepted.
        match word.to_ascii_lowercase().as_str() {
            "true" => return Ok(CompValue::Bool(true)),
            "false" => return Ok(CompValue::Bool(false)),
            "null" => return Ok(CompValue::Null),
            _ => {}
        }
        if word.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return serde_json::from_str::<Number>(&word)
                .map(CompValue::Number)
                .map_err(|_| FilterError::new(token.pos, format!("invalid number {}", quote(&word))));
        }
        Err(FilterError::new(
            token.pos,
            format!("{expected}, found {} (strings take double quotes)", quote(&word)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(attr: &str) -> AttrPath {
        AttrPath { schema: None, attr: attr.into(), sub_attr: None }
    }

    fn sub(attr: &str, sub: &str) -> AttrPath {
        AttrPath { schema: None, attr: attr.into(), sub_attr: Some(sub.into()) }
    }

    fn urn(schema: &str, attr: &str, sub: Option<&str>) -> AttrPath {
        AttrPath { schema: Some(schema.into()), attr: attr.into(), sub_attr: sub.map(Into::into) }
    }

    fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn eq(attr: &str, value: &str) -> Filter {
        cmp(path(attr), CompareOp::Eq, s(value))
    }

    fn eq_n(attr: &str, value: i64) -> Filter {
        cmp(path(attr), CompareOp::Eq, CompValue::Number(value.into()))
    }

    fn s(value: &str) -> CompValue {
        CompValue::String(value.into())
    }

    fn num(text: &str) -> CompValue {
        CompValue::Number(serde_json::from_str(text).unwrap())
    }

    fn pr(attr: &str) -> Filter {
        Filter::Present(path(attr))
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Filter) -> Filter {
        Filter::Not(Box::new(a))
    }

    fn vp(attr: AttrPath, filter: Filter) -> Filter {
        Filter::ValuePath { attr, filter: Box::new(filter) }
    }

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn assert_parses(cases: Vec<(&str, Filter)>) {
        for (input, expected) in cases {
            match parse_filter(input) {
                Ok(filter) => assert_eq!(filter, expected, "{input}"),
                Err(e) => panic!("{input}: {e}"),
            }
        }
    }

    #[test]
    fn every_operator_parses_in_any_case() {
        for op in CompareOp::ALL {
            for spelled in [op.as_str().to_string(), op.as_str().to_uppercase()] {
                let input = format!("meta.lastModified {spelled} \"2011-05-13T04:42:34Z\"");
                let expected = cmp(sub("meta", "lastModified"), op, s("2011-05-13T04:42:34Z"));
                assert_eq!(parse_filter(&input).unwrap(), expected, "{input}");
            }
        }
        assert_parses(vec![
            ("title pr", pr("title")),
            ("title PR", pr("title")),
            ("userName EQ \"x\"", eq("userName", "x")),
            ("userName Eq \"x\"", eq("userName", "x")),
        ]);
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_parses(vec![
            ("a eq 1 or b eq 2 and c eq 3", or(eq_n("a", 1), and(eq_n("b", 2), eq_n("c", 3)))),
            ("a eq 1 and b eq 2 or c eq 3", or(and(eq_n("a", 1), eq_n("b", 2)), eq_n("c", 3))),
            ("a eq 1 or b eq 2 or c eq 3", or(or(eq_n("a", 1), eq_n("b", 2)), eq_n("c", 3))),
            ("a eq 1 and b eq 2 and c eq 3", and(and(eq_n("a", 1), eq_n("b", 2)), eq_n("c", 3))),
            ("(a eq 1 or b eq 2) and c eq 3", and(or(eq_n("a", 1), eq_n("b", 2)), eq_n("c", 3))),
            ("a pr And b pr", and(pr("a"), pr("b"))),
            ("a pr OR b pr", or(pr("a"), pr("b"))),
            ("a pr aNd (b pr oR c pr)", and(pr("a"), or(pr("b"), pr("c")))),
        ]);
    }

    #[test]
    fn parentheses_and_not_group() {
        assert_parses(vec![
            ("(userName eq \"x\")", eq("userName", "x")),
            ("((userName eq \"x\"))", eq("userName", "x")),
            ("not (userName eq \"x\")", not(eq("userName", "x"))),
            ("NOT(userName eq \"x\")", not(eq("userName", "x"))),
            ("not (a pr or b pr) and c pr", and(not(or(pr("a"), pr("b"))), pr("c"))),
            ("not (not (a pr))", not(not(pr("a")))),
            ("  ( a  pr )   and\tb pr  ", and(pr("a"), pr("b"))),
            ("(a pr)and(b pr)", and(pr("a"), pr("b"))),
            // An attribute that happens to be called "not".
            ("not pr", pr("not")),
            ("not eq 1", eq_n("not", 1)),
        ]);
    }

    #[test]
    fn value_paths_hold_relative_filters() {
        assert_parses(vec![
            ("emails[type eq \"work\"]", vp(path("emails"), eq("type", "work"))),
            (
                "emails[type eq \"work\" and value co \"@example.com\"]",
                vp(
                    path("emails"),
                    and(eq("type", "work"), cmp(path("value"), CompareOp::Co, s("@example.com"))),
                ),
            ),
            (
                "emails[type eq \"work\" or not (primary eq false)]",
                vp(
                    path("emails"),
                    or(eq("type", "work"), not(cmp(path("primary"), CompareOp::Eq, CompValue::Bool(false)))),
                ),
            ),
            (
                "userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
                and(
                    eq("userType", "Employee"),
                    vp(
                        path("emails"),
                        and(eq("type", "work"), cmp(path("value"), CompareOp::Co, s("@example.com"))),
                    ),
                ),
            ),
            (
                "emails[type eq \"work\"] or ims[type eq \"xmpp\"]",
                or(vp(path("emails"), eq("type", "work")), vp(path("ims"), eq("type", "xmpp"))),
            ),
            (&format!("{USER}:emails[value pr]"), vp(urn(USER, "emails", None), pr("value"))),
            ("members[value eq \"2819c223\"]", vp(path("members"), eq("value", "2819c223"))),
        ]);
    }

    #[test]
    fn urn_prefixed_and_sub_attributes() {
        let user_name = format!("{USER}:userName eq \"bjensen\"");
        let given = format!("{USER}:name.givenName sw \"B\"");
        let manager = format!("{ENTERPRISE}:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"");
        let employee = format!("{ENTERPRISE}:employeeNumber pr");
        assert_parses(vec![
            (&user_name, cmp(urn(USER, "userName", None), CompareOp::Eq, s("bjensen"))),
            (&given, cmp(urn(USER, "name", Some("givenName")), CompareOp::Sw, s("B"))),
            (
                &manager,
                cmp(
                    urn(ENTERPRISE, "manager", Some("value")),
                    CompareOp::Eq,
                    s("26118915-6090-4610-87e4-49d8ca9f808d"),
                ),
            ),
            (&employee, Filter::Present(urn(ENTERPRISE, "employeeNumber", None))),
            ("name.familyName co \"O'Malley\"", cmp(sub("name", "familyName"), CompareOp::Co, s("O'Malley"))),
            ("x-attr_2 pr", pr("x-attr_2")),
        ]);
    }

    #[test]
    fn values_are_json() {
        for (literal, value) in [
            (r#""""#, s("")),
            (r#""a\"b""#, s("a\"b")),
            (r#""back\\slash""#, s("back\\slash")),
            (r#""tab\there\nnew""#, s("tab\there\nnew")),
            (r#""\u00e9t\u00E9""#, s("été")),
            (r#""\ud83d\ude00""#, s("😀")),
            (r#""日本語 😀""#, s("日本語 😀")),
            (r#""a ) and ( b ] [""#, s("a ) and ( b ] [")),
            (r#""\/""#, s("/")),
            ("0", num("0")),
            ("42", num("42")),
            ("-7", num("-7")),
            ("3.25", num("3.25")),
            ("-0.5", num("-0.5")),
            ("1e3", num("1e3")),
            ("2.5E-2", num("2.5E-2")),
            ("18446744073709551615", num("18446744073709551615")),
            ("true", CompValue::Bool(true)),
            ("false", CompValue::Bool(false)),
            ("True", CompValue::Bool(true)),
            ("FALSE", CompValue::Bool(false)),
            ("null", CompValue::Null),
        ] {
            let input = format!("x eq {literal}");
            assert_eq!(parse_filter(&input).unwrap(), cmp(path("x"), CompareOp::Eq, value), "{input}");
        }
    }

    #[test]
    fn identity_provider_probes_parse() {
        assert_parses(vec![
            ("userName eq \"test.user@example.com\"", eq("userName", "test.user@example.com")),
            ("externalId eq \"abc\"", eq("externalId", "abc")),
            ("displayName eq \"Group A\"", eq("displayName", "Group A")),
            (
                "userName eq \"ryan@example.com\" and active eq true",
                and(
                    eq("userName", "ryan@example.com"),
                    cmp(path("active"), CompareOp::Eq, CompValue::Bool(true)),
                ),
            ),
            (
                "id eq \"1\" or id eq \"2\"", // Entra's group-membership probe shape
                or(eq("id", "1"), eq("id", "2")),
            ),
        ]);
        let err = parse_filter("emails[type eq \"work\"].value eq \"x\"").unwrap_err();
        assert_eq!(err.position, 22, "{err}");
        assert!(err.message.contains("not in a filter"), "{err}");
    }

    #[test]
    fn patch_paths() {
        for (input, expected) in [
            (
                "emails[type eq \"work\"].value",
                PatchPath {
                    attr: path("emails"),
                    value_filter: Some(eq("type", "work")),
                    sub_attr: Some("value".into()),
                },
            ),
            (
                "members[value eq \"2819c223\"]",
                PatchPath {
                    attr: path("members"),
                    value_filter: Some(eq("value", "2819c223")),
                    sub_attr: None,
                },
            ),
            (
                "name.givenName",
                PatchPath { attr: sub("name", "givenName"), value_filter: None, sub_attr: None },
            ),
            ("userName", PatchPath { attr: path("userName"), value_filter: None, sub_attr: None }),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                PatchPath { attr: urn(ENTERPRISE, "manager", None), value_filter: None, sub_attr: None },
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                PatchPath {
                    attr: urn(ENTERPRISE, "manager", Some("value")),
                    value_filter: None,
                    sub_attr: None,
                },
            ),
            (
                "addresses[type eq \"work\" and primary eq true].streetAddress",
                PatchPath {
                    attr: path("addresses"),
                    value_filter: Some(and(
                        eq("type", "work"),
                        cmp(path("primary"), CompareOp::Eq, CompValue::Bool(true)),
                    )),
                    sub_attr: Some("streetAddress".into()),
                },
            ),
            ("  active ", PatchPath { attr: path("active"), value_filter: None, sub_attr: None }),
        ] {
            match parse_path(input) {
                Ok(parsed) => assert_eq!(parsed, expected, "{input}"),
                Err(e) => panic!("{input}: {e}"),
            }
        }
    }

    #[test]
    fn bad_patch_paths_are_rejected() {
        for (input, message, position) in [
            ("", "the path is empty", 0),
            ("   ", "the path is empty", 0),
            ("emails[type eq \"work\"", r#"expected "]" to close the "[" at character 6"#, 21),
            ("emails[type eq \"work\"].", r#"invalid sub-attribute name """#, 23),
            ("emails[type eq \"work\"].value.x", r#"invalid sub-attribute name "value.x""#, 23),
            ("emails[type eq \"work\"] x", r#"unexpected "x" after the path"#, 23),
            ("name.givenName[value pr]", "can't have a sub-attribute", 14),
            ("userName eq \"x\"", r#"unexpected "eq" after the path"#, 9),
            ("\"userName\"", "expected an attribute path, found the string \"userName\"", 0),
            ("emails[x[y eq 1]]", "value paths can't be nested", 8),
            ("1abc", r#"invalid attribute name "1abc""#, 0),
        ] {
            let err = parse_path(input).unwrap_err();
            assert!(err.message.contains(message), "{input}: {err}");
            assert_eq!(err.position, position, "{input}: {err}");
        }
        assert!(parse_path(&"a".repeat(MAX_FILTER_LEN + 1)).is_err());
    }

    #[test]
    fn bad_filters_say_what_was_expected_and_where() {
        for (input, message, position) in [
            ("", "the filter is empty", 0),
            ("   ", "the filter is empty", 0),
            ("userName eq \"abc", "unterminated string", 12),
            ("userName eq \"abc\\\"", "unterminated string", 12),
            ("userName eqq \"x\"", r#"unknown operator "eqq""#, 9),
            ("userName", r#"expected an operator after "userName", found the end of the filter"#, 8),
            ("userName \"x\"", r#"expected an operator after "userName", found the string "x""#, 9),
            ("userName eq", r#"expected a value after "eq", found the end of the filter"#, 11),
            ("userName eq )", r#"expected a value after "eq", found ")""#, 12),
            (
                "userName eq bob",
                r#"expected a value after "eq", found "bob" (strings take double quotes)"#,
                12,
            ),
            ("x eq 1.2.3", r#"invalid number "1.2.3""#, 5),
            ("x eq 01", r#"invalid number "01""#, 5),
            ("x eq 1e999", r#"invalid number "1e999""#, 5),
            ("x eq -", r#"invalid number "-""#, 5),
            (
                "userName eq \"x\" and",
                r#"expected an attribute path, "(" or "not" after "and", found the end of the filter"#,
                19,
            ),
            ("and a pr", r#"expected an attribute path, "(" or "not", found "and""#, 0),
            ("a pr or or b pr", r#"expected an attribute path, "(" or "not" after "or", found "or""#, 8),
            ("(a pr", r#"expected ")" to close the "(" at character 0"#, 5),
            ("((a pr)", r#"expected ")" to close the "(" at character 0"#, 7),
            ("a pr)", r#"unexpected ")""#, 4),
            ("a pr]", r#"unexpected "]""#, 4),
            (")", r#"expected an attribute path, "(" or "not", found ")""#, 0),
            ("()", r#"expected an attribute path, "(" or "not" after "(", found ")""#, 1),
            ("(a pr]", r#"expected "and", "or" or ")", found "]""#, 5),
            ("emails[type eq \"work\"", r#"expected "]" to close the "[" at character 6"#, 21),
            ("emails[type eq \"work\")", r#"expected "and", "or" or "]", found ")""#, 21),
            ("emails[x[y eq 1]]", "value paths can't be nested", 8),
            ("emails[]", r#"expected an attribute path, "(" or "not" after "[", found "]""#, 7),
            ("name.givenName[value pr]", "can't have a sub-attribute", 14),
            ("not a pr", r#"expected "(" after "not", found "a""#, 4),
            ("not", r#"expected "(" after "not", found the end of the filter"#, 3),
            ("a pr b pr", r#"expected "and", "or" or the end of the filter, found "b""#, 5),
            ("a pr $$", r#"expected "and", "or" or the end of the filter, found "$$""#, 5),
            ("us$er eq 1", r#"invalid attribute name "us$er""#, 0),
            ("a.b.c pr", r#"invalid sub-attribute name "b.c""#, 2),
            ("a. pr", r#"invalid sub-attribute name """#, 2),
            (".a pr", r#"expected an attribute path, "(" or "not", found ".a""#, 0),
            (":a pr", r#"expected a schema URN before ":" in ":a""#, 0),
            ("urn:x: pr", r#"expected an attribute name in "urn:x:""#, 6),
            ("urn:x:2.0 pr", r#"invalid attribute name "2""#, 6),
            ("x eq \"bad \\q escape\"", "invalid string \"bad \\q escape\": invalid escape", 5),
            ("x eq \"raw\ttab\"", "invalid string", 5),
            ("é eq 1", r#"invalid attribute name "é""#, 0),
            ("ü pr and x eqq 1", r#"invalid attribute name "ü""#, 0),
            ("x eq 1 and yé eqq 1", r#"invalid attribute name "yé""#, 11),
            ("x eq 1 and y eqq 1", r#"unknown operator "eqq""#, 13),
            ("x eq 'y'", r#"expected a value after "eq", found "'y'" (strings take double quotes)"#, 5),
            ("title pr \"x\"", r#"expected "and", "or" or the end of the filter, found the string "x""#, 9),
            ("{\"a\":1}", r#"invalid attribute name "{""#, 0),
        ] {
            let err = parse_filter(input).unwrap_err();
            assert!(err.message.contains(message), "{input}: {err}");
            assert_eq!(err.position, position, "{input}: {err}");
        }
    }

    #[test]
    fn errors_display_their_position() {
        let err = parse_filter("userName eqq \"x\"").unwrap_err();
        assert_eq!(err.to_string(), r#"unknown operator "eqq" (at character 9)"#);
        // Positions count characters, not bytes.
        assert_eq!(parse_filter("x eq \"日本\" and y eqq 1").unwrap_err().position, 16);
    }

    #[test]
    fn overlong_input_is_rejected() {
        let ok = format!("x eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 7));
        assert_eq!(ok.len(), MAX_FILTER_LEN);
        assert!(parse_filter(&ok).is_ok());
        let long = format!("x eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 6));
        let err = parse_filter(&long).unwrap_err();
        assert!(err.message.contains("longer than 4096 bytes"), "{err}");
    }

    #[test]
    fn nesting_is_limited() {
        let parens = |n: usize| format!("{}a pr{}", "(".repeat(n), ")".repeat(n));
        let nots = |n: usize| format!("{}a pr{}", "not (".repeat(n), ")".repeat(n));
        assert_eq!(parse_filter(&parens(MAX_DEPTH)).unwrap(), pr("a"));
        assert_eq!(parse_filter(&nots(MAX_DEPTH - 1)).unwrap().depth(), MAX_DEPTH);
        for (case, input, position) in [
            ("33 parentheses", parens(MAX_DEPTH + 1), MAX_DEPTH),
            ("40 parentheses", parens(40), MAX_DEPTH),
            ("32 nots", nots(MAX_DEPTH), 0),
            ("40 unclosed parentheses", "(".repeat(40), MAX_DEPTH),
            ("1000 unclosed nots", "not(".repeat(1000), 4 * MAX_DEPTH),
        ] {
            let err = parse_filter(&input).unwrap_err();
            assert_eq!(err.message, "nested more than 32 levels deep", "{case}");
            assert_eq!(err.position, position, "{case}: {err}");
        }
        // Past the length limit too, the parser stops at the limit instead of recursing on.
        for (case, input, position) in
            [("1000 nots", nots(1000), 5 * MAX_DEPTH), ("100000 parentheses", parens(100_000), MAX_DEPTH)]
        {
            let err = whole_filter(Parser::new(&input, "filter").unwrap()).unwrap_err();
            assert_eq!(
                (err.message.as_str(), err.position),
                ("nested more than 32 levels deep", position),
                "{case}"
            );
        }
        assert!(parse_filter(&nots(1000)).unwrap_err().message.contains("longer than"));
        // An and/or chain deepens the tree by one per operator.
        let chain = |n: usize| vec!["a pr"; n].join(" or ");
        assert_eq!(parse_filter(&chain(MAX_DEPTH)).unwrap().depth(), MAX_DEPTH);
        assert!(parse_filter(&chain(MAX_DEPTH + 1)).is_err());
        let value_paths = format!("{}emails[a pr]{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse_filter(&value_paths).unwrap_err().message.starts_with("nested more than"));
    }

    #[test]
    fn depth_counts_levels() {
        for (input, depth) in [
            ("a pr", 1),
            ("(((a pr)))", 1),
            ("a pr and b pr", 2),
            ("a pr or b pr and c pr", 3),
            ("not (a pr)", 2),
            ("emails[type eq \"work\" and value pr]", 3),
            ("x pr or not (emails[a pr])", 4),
        ] {
            assert_eq!(parse_filter(input).unwrap().depth(), depth, "{input}");
        }
    }

    #[test]
    fn attribute_names_follow_the_abnf() {
        for (name, valid) in [
            ("userName", true),
            ("x", true),
            ("x-y_z9", true),
            ("", false),
            ("9lives", false),
            ("-x", false),
            ("_x", false),
            ("a.b", false),
            ("a:b", false),
            ("$ref", false),
            ("é", false),
            ("a b", false),
        ] {
            assert_eq!(is_valid_attr_name(name), valid, "{name}");
        }
    }

    #[test]
    fn attr_paths_match_ignoring_case_and_schema() {
        let filter = parse_filter(&format!("{USER}:USERNAME eq \"x\"")).unwrap();
        let Filter::Compare { path, .. } = filter else { panic!("{filter:?}") };
        assert!(path.matches("userName"));
        assert!(path.matches("username"));
        assert!(!path.matches("name"));
        assert_eq!(path.schema.as_deref(), Some(USER));
    }
}
