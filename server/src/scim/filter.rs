//! SCIM filter and PATCH path parsing (RFC 7644 §3.4.2.2, §3.5.2): text in, a typed tree out.
//! Pure: no SQL and no schema knowledge, so an unknown attribute is the caller's `invalidFilter`.
//! Input is at most `MAX_FILTER_LEN` bytes with at most `MAX_TERMS` attribute expressions, and
//! both the tree and the parser's recursion are at most `MAX_DEPTH` levels deep, so no filter can
//! exhaust the stack. A chain of one operator (`a or b or c`) is one n-ary node, so depth counts
//! nesting, not chain length. Operators and keywords are case-insensitive; names are kept as
//! written. Error positions are 0-based character offsets.

use std::iter::{Enumerate, Peekable};
use std::str::Chars;
use std::vec::IntoIter;

use serde_json::Number;

/// Entra sends up to 100 `or`ed terms (`id eq "…" or id eq "…" …`); 64 KiB leaves room for
/// long values.
pub const MAX_FILTER_LEN: usize = 64 * 1024;
pub const MAX_DEPTH: usize = 32;
/// Comparisons and `pr`s in one filter. Each becomes a term of one SQL condition, and SQLite
/// refuses expressions more than 1000 levels deep (`SQLITE_MAX_EXPR_DEPTH`), which a left-deep
/// `OR` chain approaches one level per term.
pub const MAX_TERMS: usize = 512;

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
    /// `a and b and c`: every operand of one chain, in order (at least two when parsed).
    And(Vec<Filter>),
    /// `a or b or c`, as `And`.
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: `filter`'s paths are relative to `attr` (sub-attributes of it).
    /// `emails[type eq "work"].value eq "x"` (Entra) is parsed as
    /// `emails[type eq "work" and value eq "x"]`, which means the same: some element matches both.
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
                Filter::And(operands) | Filter::Or(operands) => {
                    stack.extend(operands.iter().map(|operand| (operand, depth + 1)));
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
    /// Attribute expressions parsed so far, up to `MAX_TERMS`.
    terms: usize,
}

/// Parses one operand of an `and` or `or` chain: `nesting`, `in_value` and the token before.
type Operand = fn(&mut Parser, usize, bool, Option<&str>) -> Result<Node, FilterError>;

impl Parser {
    fn new(input: &str, what: &'static str) -> Result<Self, FilterError> {
        let tokens = lex(input)?;
        Ok(Self { tokens: tokens.into_iter().peekable(), end: input.chars().count(), what, terms: 0 })
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

    /// logExp with `or`: `and` binds tighter (RFC 7644 §3.4.2.2, Table 5).
    fn or_expr(&mut self, nesting: usize, in_value: bool, after: Option<&str>) -> Result<Node, FilterError> {
        self.chain("or", Self::and_expr, Filter::Or, nesting, in_value, after)
    }

    fn and_expr(&mut self, nesting: usize, in_value: bool, after: Option<&str>) -> Result<Node, FilterError> {
        self.chain("and", Self::unary, Filter::And, nesting, in_value, after)
    }

    /// `operand (keyword operand)*` as one node, one level above its deepest operand: a chain
    /// of any length (both operators are associative) adds one level, not one per keyword.
    fn chain(
        &mut self,
        keyword: &str,
        operand: Operand,
        join: fn(Vec<Filter>) -> Filter,
        nesting: usize,
        in_value: bool,
        after: Option<&str>,
    ) -> Result<Node, FilterError> {
        let first = operand(self, nesting, in_value, after)?;
        let Some(first_keyword) = self.take_keyword(keyword) else { return Ok(first) };
        let pos = first_keyword.pos;
        let mut depth = first.depth;
        let mut operands = vec![first.filter];
        let mut next_keyword = Some(first_keyword);
        while let Some(keyword_token) = next_keyword {
            let next = operand(self, nesting, in_value, Some(&keyword_token.describe()))?;
            depth = depth.max(next.depth);
            operands.push(next.filter);
            next_keyword = self.take_keyword(keyword);
        }
        node(pos, depth, join(operands))
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

    /// attrExp (`path pr`, `path op value`) or valuePath (`path[valFilter]`), the latter
    /// optionally followed by `.subAttr pr` or `.subAttr op value` (Entra:
    /// `emails[type eq "work"].value eq "x"`), which joins the bracket's filter with `and`.
    fn attr_expr(
        &mut self,
        word: &str,
        pos: usize,
        nesting: usize,
        in_value: bool,
    ) -> Result<Node, FilterError> {
        self.count_term(pos)?;
        let path = attr_path(word, pos)?;
        let Some(open) = self.take(&Kind::OpenBracket) else {
            return node(pos, 0, self.operation(path, word)?);
        };
        if in_value {
            return Err(FilterError::new(open, "value paths can't be nested"));
        }
        let mut inner = self.value_filter(&path, word, open, nesting)?;
        if let Some((sub_word, sub_pos)) = self.take_sub_attr() {
            self.count_term(sub_pos)?;
            let sub =
                AttrPath { schema: None, attr: sub_attr_after_bracket(&sub_word, sub_pos)?, sub_attr: None };
            let trailing = self.operation(sub, &sub_word)?;
            inner = match inner.filter {
                Filter::And(mut operands) => {
                    operands.push(trailing);
                    Node { filter: Filter::And(operands), depth: inner.depth }
                }
                filter => node(sub_pos, inner.depth, Filter::And(vec![filter, trailing]))?,
            };
        }
        node(pos, inner.depth, Filter::ValuePath { attr: path, filter: Box::new(inner.filter) })
    }

    /// One more attribute expression, if that stays within `MAX_TERMS`.
    fn count_term(&mut self, pos: usize) -> Result<(), FilterError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(FilterError::new(pos, format!("more than {MAX_TERMS} comparisons")));
        }
        Ok(())
    }

    /// `pr` or `op value` after `path`, written as `word`.
    fn operation(&mut self, path: AttrPath, word: &str) -> Result<Filter, FilterError> {
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
            return Ok(Filter::Present(path));
        }
        let Some(compare) = CompareOp::from_keyword(&op.0) else {
            return Err(FilterError::new(op.1, format!("unknown operator {}", quote(&op.0))));
        };
        let value = self.value(&op.0)?;
        Ok(Filter::Compare { path, op: compare, value })
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
mod tests;
