//! Email addresses are identities: trimmed, lowercased, checked for a sane shape. The domain must
//! have at least two labels of letters, digits and dashes (internationalized domains arrive
//! in their ASCII `xn--` form), outside the reserved `.invalid`.

use crate::error::ApiError;

const MAX_EMAIL: usize = 254;
const MAX_LOCAL: usize = 64;

pub fn normalize(field: &str, raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let invalid = |why: &str| Err(ApiError::validation(field, why.to_string()));
    if email.is_empty() {
        return invalid("is required");
    }
    if email.len() > MAX_EMAIL {
        return invalid("is longer than 254 characters");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return invalid("is not an email address");
    };
    if local.is_empty() || local.len() > MAX_LOCAL {
        return invalid("is not an email address");
    }
    let local_ok = local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return invalid("is not an email address");
    }
    // Internationalized domains are kept in their ASCII (`xn--`) form.
    let Ok(domain) = idna::domain_to_ascii(domain) else {
        return invalid("has no valid domain");
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !domain_ok {
        return invalid("has no valid domain");
    }
    // `.invalid` is reserved (RFC 2606); Guildhall's stand-in identities live there, and no
    // person may take one.
    if domain == "invalid" || domain.ends_with(".invalid") {
        return invalid("is in the reserved `.invalid` domain");
    }
    Ok(format!("{local}@{domain}"))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn emails_normalize_or_fail() {
        assert_eq!(normalize("email", "  Alice@Example.COM ").unwrap(), "alice@example.com");
        assert_eq!(normalize("email", "a.b+tag@eu.example.co").unwrap(), "a.b+tag@eu.example.co");
        assert_eq!(normalize("email", "Jörg@Bücher.Example").unwrap(), "jörg@xn--bcher-kva.example");
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "a..b@example.com",
            "alice@exa mple.com",
            "alice@-x.com",
            ".a@example.com",
            "a@b@example.com",
            "scim-0190@directory.invalid",
            "sa-1@service.invalid",
        ] {
            assert!(normalize("email", bad).is_err(), "{bad}");
        }
        assert!(normalize("email", &format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
