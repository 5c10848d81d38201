//! Domain names: normalization (case, trailing dot, IDN to ASCII), matching with subdomains, and
//! the public mail providers and public suffixes nobody may claim.

use crate::error::ApiError;

/// Mail providers whose addresses belong to the public, not to one organization.
const PUBLIC_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "ymail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
    "yandex.ru",
    "yandex.com",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "zoho.com",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
    "tuta.io",
    "aim.com",
    "comcast.net",
    "t-online.de",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
];

/// Lowercase ASCII form of a domain name, or a validation error on `field`.
pub fn normalize(field: &str, raw: &str) -> Result<String, ApiError> {
    let trimmed = raw.trim().trim_start_matches('@').trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(ApiError::validation(field, "is required"));
    }
    let ascii =
        idna::domain_to_ascii(trimmed).map_err(|_| ApiError::validation(field, "is not a domain name"))?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let ok = ascii.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels.last().is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()));
    if !ok {
        return Err(ApiError::validation(field, "is not a domain name"));
    }
    Ok(ascii)
}

/// Whether `domain` is a public suffix (`com`, `co.uk`, `github.io`): a name under which anyone
/// may register, so no one org owns it. Both the ICANN and the private sections of the list count.
pub fn is_public_suffix(domain: &str) -> bool {
    psl::domain(domain.as_bytes()).is_none()
}

pub fn is_public_provider(domain: &str) -> bool {
    PUBLIC_PROVIDERS.iter().any(|p| domain == *p || domain.ends_with(&format!(".{p}")))
}

/// Whether `email_domain` is `domain` or one of its subdomains.
pub fn matches(email_domain: &str, domain: &str) -> bool {
    email_domain == domain || email_domain.strip_suffix(domain).is_some_and(|rest| rest.ends_with('.'))
}

/// The domain part of a normalized email.
pub fn of_email(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
}

/// `eu.example.com` -> `[eu.example.com, example.com, com]`: every domain an email could match.
pub fn suffixes(domain: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = domain;
    loop {
        out.push(rest.to_string());
        match rest.split_once('.') {
            Some((_, tail)) => rest = tail,
            None => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_normalize_match_and_exclude_public_providers() {
        assert_eq!(normalize("d", " Example.COM. ").unwrap(), "example.com");
        assert_eq!(normalize("d", "@eu.example.com").unwrap(), "eu.example.com");
        assert_eq!(normalize("d", "bücher.example").unwrap(), "xn--bcher-kva.example");
        for bad in
            ["", "localhost", "exa mple.com", "-x.com", "a..b", "1.2.3.4", &format!("{}.com", "a".repeat(64))]
        {
            assert!(normalize("d", bad).is_err(), "{bad}");
        }
        assert!(matches("example.com", "example.com"));
        assert!(matches("eu.example.com", "example.com"));
        assert!(!matches("badexample.com", "example.com"));
        assert!(!matches("example.com.evil.io", "example.com"));
        assert!(is_public_provider("gmail.com") && is_public_provider("mail.yahoo.com"));
        assert!(!is_public_provider("example.com"));
        for suffix in ["com", "co.uk", "github.io", "s3.amazonaws.com", "pvt.k12.ma.us"] {
            assert!(is_public_suffix(suffix), "{suffix}");
        }
        for owned in ["example.com", "eu.example.com", "example.co.uk", "me.github.io", "victim.test"] {
            assert!(!is_public_suffix(owned), "{owned}");
        }
        assert_eq!(suffixes("eu.example.com"), ["eu.example.com", "example.com", "com"]);
    }
}
