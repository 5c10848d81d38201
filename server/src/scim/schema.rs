//! The SCIM schemas Guildhall serves (RFC 7643 §4, §7, §8.7): one static table of attribute
//! definitions that drives discovery (`/Schemas`, `/ResourceTypes`), request validation,
//! `attributes`/`excludedAttributes`, PATCH and the filter attribute map. What is listed here is
//! what Guildhall stores and returns; other attributes of these schemas are refused, and those
//! of schemas Guildhall does not serve are ignored (`resource`, `value`). The User
//! schema has every attribute of RFC 7643 §4.1 with §8.7.1's characteristics.

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Complex => "complex",
            Self::Binary => "binary",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub description: &'static str,
    /// For `complex` attributes.
    pub sub: &'static [Attr],
    pub canonical: &'static [&'static str],
    /// For `reference` attributes: `User`, `Group`, `external`, `uri`.
    pub reference_types: &'static [&'static str],
}

impl Attr {
    /// The sub-attribute called `name`, ignoring case.
    pub fn sub_attr(&self, name: &str) -> Option<&'static Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

const fn attr(name: &'static str, ty: AttrType, description: &'static str) -> Attr {
    Attr {
        name,
        ty,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        description,
        sub: &[],
        canonical: &[],
        reference_types: &[],
    }
}

const fn string(name: &'static str, description: &'static str) -> Attr {
    attr(name, AttrType::String, description)
}

const fn boolean(name: &'static str, description: &'static str) -> Attr {
    attr(name, AttrType::Boolean, description)
}

const fn complex(name: &'static str, sub: &'static [Attr], description: &'static str) -> Attr {
    Attr { sub, ..attr(name, AttrType::Complex, description) }
}

const fn multi(a: Attr) -> Attr {
    Attr { multi: true, ..a }
}

const fn read_only(a: Attr) -> Attr {
    Attr { mutability: Mutability::ReadOnly, ..a }
}

const fn canonical(a: Attr, values: &'static [&'static str]) -> Attr {
    Attr { canonical: values, ..a }
}

/// One schema (RFC 7643 §7).
#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attrs: &'static [Attr],
}

impl Schema {
    /// The top-level attribute called `name`, ignoring case.
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// One resource type (RFC 7643 §6): a core schema plus extensions.
#[derive(Debug)]
pub struct ResourceType {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static Schema,
    /// Extensions and whether they are required.
    pub extensions: &'static [(&'static Schema, bool)],
}

impl ResourceType {
    /// Every schema of the type, the core one first.
    pub fn schemas(&self) -> impl Iterator<Item = &'static Schema> + '_ {
        std::iter::once(self.schema).chain(self.extensions.iter().map(|(s, _)| *s))
    }

    /// The schema with this URN, ignoring case.
    pub fn schema_by_urn(&self, urn: &str) -> Option<&'static Schema> {
        self.schemas().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolves an attribute name, optionally URN-prefixed (`urn:...:User:name`): the schema it
    /// belongs to and its definition. Without a URN the core schema is searched first, then the
    /// extensions.
    pub fn resolve(&self, urn: Option<&str>, name: &str) -> Option<(&'static Schema, &'static Attr)> {
        match urn {
            Some(urn) => {
                let schema = self.schema_by_urn(urn)?;
                Some((schema, schema.attr(name)?))
            }
            None => self.schemas().find_map(|s| s.attr(name).map(|a| (s, a))),
        }
    }
}

const TYPE_DESC: &str = "A label indicating the attribute's function, e.g. 'work' or 'home'.";
const PRIMARY_DESC: &str = "Whether this is the primary value; at most one value has it.";
const DISPLAY_DESC: &str = "A human-readable name, primarily used for display purposes.";

const NAME_SUB: &[Attr] = &[
    string("formatted", "The full name, formatted for display."),
    string("familyName", "The family name, or last name."),
    string("givenName", "The given name, or first name."),
    string("middleName", "The middle name(s)."),
    string("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
    string("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
];

const EMAIL_SUB: &[Attr] = &[
    string("value", "The email address, canonicalized per RFC 5321."),
    string("display", DISPLAY_DESC),
    canonical(string("type", TYPE_DESC), &["work", "home", "other"]),
    boolean("primary", PRIMARY_DESC),
];

const PHONE_SUB: &[Attr] = &[
    string("value", "The phone number, e.g. 'tel:+1-201-555-0123'."),
    string("display", DISPLAY_DESC),
    canonical(string("type", TYPE_DESC), &["work", "home", "mobile", "fax", "pager", "other"]),
    boolean("primary", PRIMARY_DESC),
];

const IM_SUB: &[Attr] = &[
    string("value", "The instant messaging address."),
    string("display", DISPLAY_DESC),
    canonical(
        string("type", "A label indicating the attribute's function, e.g. 'aim', 'gtalk', 'xmpp'."),
        &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
    ),
    boolean("primary", PRIMARY_DESC),
];

const PHOTO_SUB: &[Attr] = &[
    Attr {
        reference_types: &["external"],
        ..attr("value", AttrType::Reference, "The URL of a photo of the user.")
    },
    string("display", DISPLAY_DESC),
    canonical(
        string("type", "A label indicating the attribute's function: 'photo' or 'thumbnail'."),
        &["photo", "thumbnail"],
    ),
    boolean("primary", PRIMARY_DESC),
];

// §8.7.1 leaves `primary` out of addresses; §4.1.2 gives every multi-valued attribute one.
const ADDRESS_SUB: &[Attr] = &[
    string("formatted", "The full mailing address, formatted for display."),
    string("streetAddress", "The full street address."),
    string("locality", "The city or locality."),
    string("region", "The state or region."),
    string("postalCode", "The zip code or postal code."),
    string("country", "The country name, ISO 3166-1 alpha-2."),
    canonical(string("type", TYPE_DESC), &["work", "home", "other"]),
    boolean("primary", PRIMARY_DESC),
];

/// `entitlements` and `roles` (RFC 7643 §4.1.2): free-form values without canonical types.
const LABEL_SUB: &[Attr] = &[
    string("value", "The value: the entitlement or role itself."),
    string("display", DISPLAY_DESC),
    string("type", "A label indicating the attribute's function."),
    boolean("primary", PRIMARY_DESC),
];

const CERTIFICATE_SUB: &[Attr] = &[
    attr("value", AttrType::Binary, "A DER-encoded X.509 certificate, base64-encoded."),
    string("display", DISPLAY_DESC),
    string("type", "A label indicating the attribute's function."),
    boolean("primary", PRIMARY_DESC),
];

/// Filled on reads from the user's teams; a client's `groups` is ignored (RFC 7643 §4.1.2).
const USER_GROUP_SUB: &[Attr] = &[
    read_only(string("value", "The id of the group.")),
    read_only(Attr {
        reference_types: &["Group"],
        ..attr("$ref", AttrType::Reference, "The URI of the group.")
    }),
    read_only(string("display", "The group's displayName.")),
    read_only(canonical(string("type", "How the user is a member: 'direct'."), &["direct", "indirect"])),
];

pub static USER: Schema = Schema {
    id: USER_URN,
    name: "User",
    description: "User Account: an org's membership of a Guildhall user",
    attrs: &[
        Attr {
            required: true,
            uniqueness: Uniqueness::Server,
            ..string("userName", "Unique identifier for the user in the org, case-insensitive.")
        },
        complex("name", NAME_SUB, "The components of the user's name."),
        string("displayName", "The name of the user, suitable for display."),
        string("nickName", "The casual way to address the user."),
        Attr {
            reference_types: &["external"],
            ..attr("profileUrl", AttrType::Reference, "A URI to the user's online profile.")
        },
        string("title", "The user's title, e.g. 'Vice President'."),
        string("userType", "The relationship between the org and the user, e.g. 'Employee'."),
        string("preferredLanguage", "The user's preferred language, e.g. 'en-US'."),
        string("locale", "The user's default location, e.g. 'en-US'."),
        string("timezone", "The user's time zone in IANA format, e.g. 'Europe/Paris'."),
        boolean("active", "Whether the user may sign in to the org; false suspends the membership."),
        Attr {
            mutability: Mutability::WriteOnly,
            returned: Returned::Never,
            ..string("password", "Accepted and discarded unless password sync is enabled; never returned.")
        },
        multi(complex("emails", EMAIL_SUB, "Email addresses; the primary one is the user's identity.")),
        multi(complex("phoneNumbers", PHONE_SUB, "Phone numbers.")),
        multi(complex("ims", IM_SUB, "Instant messaging addresses.")),
        multi(complex("photos", PHOTO_SUB, "URLs of photos of the user.")),
        multi(complex("addresses", ADDRESS_SUB, "Physical mailing addresses.")),
        read_only(multi(complex("groups", USER_GROUP_SUB, "The groups (teams) the user is in."))),
        multi(complex("entitlements", LABEL_SUB, "Things the user has, e.g. a license.")),
        multi(complex("roles", LABEL_SUB, "Who the user is, e.g. 'Student' or 'Faculty'.")),
        multi(complex("x509Certificates", CERTIFICATE_SUB, "Certificates issued to the user.")),
    ],
};

const MANAGER_SUB: &[Attr] = &[
    Attr { required: false, ..string("value", "The id of the manager's SCIM User.") },
    Attr { reference_types: &["User"], ..attr("$ref", AttrType::Reference, "The URI of the manager.") },
    read_only(string("displayName", "The manager's displayName.")),
];

pub static ENTERPRISE_USER: Schema = Schema {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attrs: &[
        string("employeeNumber", "A string identifier of the user in the organization."),
        string("costCenter", "The cost center."),
        string("organization", "The organization."),
        string("division", "The division."),
        string("department", "The department."),
        complex("manager", MANAGER_SUB, "The user's manager."),
    ],
};

const MEMBER_SUB: &[Attr] = &[
    Attr { mutability: Mutability::Immutable, ..string("value", "The id of the member's SCIM User.") },
    Attr {
        mutability: Mutability::Immutable,
        reference_types: &["User"],
        ..attr("$ref", AttrType::Reference, "The URI of the member.")
    },
    // Okta sends it; accepted and ignored, and not returned (RFC 7643 §8.7.1 lists members as
    // value, $ref and type).
    Attr { returned: Returned::Never, ..read_only(string("display", "The member's display name.")) },
    Attr {
        mutability: Mutability::Immutable,
        canonical: &["User"],
        ..string("type", "The type of the member: 'User'.")
    },
];

pub static GROUP: Schema = Schema {
    id: GROUP_URN,
    name: "Group",
    description: "Group: a team of the org",
    attrs: &[
        Attr {
            required: true,
            uniqueness: Uniqueness::Server,
            ..string("displayName", "The name of the group (team), unique in the org, case-insensitive.")
        },
        multi(complex("members", MEMBER_SUB, "The users in the group.")),
    ],
};

pub static USER_TYPE: ResourceType = ResourceType {
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER,
    extensions: &[(&ENTERPRISE_USER, false)],
};

pub static GROUP_TYPE: ResourceType = ResourceType {
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP,
    extensions: &[],
};

pub static RESOURCE_TYPES: [&ResourceType; 2] = [&USER_TYPE, &GROUP_TYPE];

/// Every schema served at `/Schemas`.
pub fn all_schemas() -> [&'static Schema; 3] {
    [&USER, &ENTERPRISE_USER, &GROUP]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_resolve_case_insensitively_with_and_without_urn() {
        let (schema, a) = USER_TYPE.resolve(None, "USERNAME").expect("userName");
        assert_eq!((schema.id, a.name), (USER_URN, "userName"));
        let (schema, a) = USER_TYPE.resolve(None, "manager").expect("manager");
        assert_eq!((schema.id, a.name), (ENTERPRISE_USER_URN, "manager"));
        let (_, a) =
            USER_TYPE.resolve(Some(&ENTERPRISE_USER_URN.to_uppercase()), "Department").expect("dept");
        assert_eq!(a.name, "department");
        assert!(USER_TYPE.resolve(Some(GROUP_URN), "userName").is_none());
        assert!(USER_TYPE.resolve(None, "nope").is_none());
        assert_eq!(USER.attr("emails").and_then(|a| a.sub_attr("VALUE")).map(|a| a.name), Some("value"));
    }

    /// RFC 7643 §8.7.1, attribute by attribute, the sub-attributes in order.
    #[test]
    fn the_user_schema_has_every_rfc_7643_attribute() {
        use AttrType::{Binary, Boolean, Complex, Reference, String as Str};
        use Mutability::{ReadOnly, ReadWrite, WriteOnly};
        use Returned::{Default, Never};
        const PLURAL: &[&str] = &["value", "display", "type", "primary"];
        /// name, type, multiValued, mutability, returned, sub-attributes
        type Row = (&'static str, AttrType, bool, Mutability, Returned, &'static [&'static str]);
        let expected: [Row; 21] = [
            ("userName", Str, false, ReadWrite, Default, &[]),
            (
                "name",
                Complex,
                false,
                ReadWrite,
                Default,
                &["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"],
            ),
            ("displayName", Str, false, ReadWrite, Default, &[]),
            ("nickName", Str, false, ReadWrite, Default, &[]),
            ("profileUrl", Reference, false, ReadWrite, Default, &[]),
            ("title", Str, false, ReadWrite, Default, &[]),
            ("userType", Str, false, ReadWrite, Default, &[]),
            ("preferredLanguage", Str, false, ReadWrite, Default, &[]),
            ("locale", Str, false, ReadWrite, Default, &[]),
            ("timezone", Str, false, ReadWrite, Default, &[]),
            ("active", Boolean, false, ReadWrite, Default, &[]),
            ("password", Str, false, WriteOnly, Never, &[]),
            ("emails", Complex, true, ReadWrite, Default, PLURAL),
            ("phoneNumbers", Complex, true, ReadWrite, Default, PLURAL),
            ("ims", Complex, true, ReadWrite, Default, PLURAL),
            ("photos", Complex, true, ReadWrite, Default, PLURAL),
            (
                "addresses",
                Complex,
                true,
                ReadWrite,
                Default,
                &[
                    "formatted",
                    "streetAddress",
                    "locality",
                    "region",
                    "postalCode",
                    "country",
                    "type",
                    "primary",
                ],
            ),
            ("groups", Complex, true, ReadOnly, Default, &["value", "$ref", "display", "type"]),
            ("entitlements", Complex, true, ReadWrite, Default, PLURAL),
            ("roles", Complex, true, ReadWrite, Default, PLURAL),
            ("x509Certificates", Complex, true, ReadWrite, Default, PLURAL),
        ];
        let names: Vec<&str> = USER.attrs.iter().map(|a| a.name).collect();
        assert_eq!(names, expected.map(|e| e.0));
        for (name, ty, multi, mutability, returned, subs) in expected {
            let a = USER.attr(name).unwrap();
            assert_eq!(
                (a.ty, a.multi, a.mutability, a.returned),
                (ty, multi, mutability, returned),
                "{name}"
            );
            assert_eq!(a.sub.iter().map(|s| s.name).collect::<Vec<_>>(), subs, "{name}");
            assert_eq!(a.required, name == "userName", "{name}");
            let unique = if name == "userName" { Uniqueness::Server } else { Uniqueness::None };
            assert_eq!(a.uniqueness, unique, "{name}");
            for sub in a.sub {
                // Sub-attributes of a read-only attribute are read-only too (§8.7.1 `groups`).
                let sub_mutability = if mutability == ReadOnly { ReadOnly } else { ReadWrite };
                assert_eq!(sub.mutability, sub_mutability, "{name}.{}", sub.name);
                if sub.name == "primary" {
                    assert_eq!(sub.ty, Boolean, "{name}.primary");
                }
            }
        }
        let sub = |attr: &str, sub: &str| USER.attr(attr).and_then(|a| a.sub_attr(sub)).unwrap();
        for (attr, values) in [
            ("emails", &["work", "home", "other"][..]),
            ("phoneNumbers", &["work", "home", "mobile", "fax", "pager", "other"]),
            ("ims", &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
            ("photos", &["photo", "thumbnail"]),
            ("addresses", &["work", "home", "other"]),
            ("groups", &["direct", "indirect"]),
            ("entitlements", &[]),
            ("roles", &[]),
            ("x509Certificates", &[]),
        ] {
            assert_eq!(sub(attr, "type").canonical, values, "{attr}.type");
        }
        assert_eq!(
            (sub("photos", "value").ty, sub("photos", "value").reference_types),
            (Reference, &["external"][..])
        );
        assert_eq!(USER.attr("profileUrl").unwrap().reference_types, ["external"]);
        assert_eq!(sub("x509Certificates", "value").ty, Binary);
        let manager = ENTERPRISE_USER.attr("manager").unwrap();
        let subs: Vec<(&str, Mutability)> = manager.sub.iter().map(|s| (s.name, s.mutability)).collect();
        assert_eq!(subs, [("value", ReadWrite), ("$ref", ReadWrite), ("displayName", ReadOnly)]);
    }
}
