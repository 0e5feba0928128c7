//! Contact data a holder registers with (共享注册): what makes a mobile number and an e-mail
//! address worth keeping. Loose on purpose — a platform reaches its users through these, it
//! does not parse them — but `abc` is no phone and `not-an-email` no mailbox.

/// A mobile number (手机号): a mainland number of 11 digits starting with 1 (second digit
/// 3–9), optionally after `+86` or `86`; or an international number, `+` and 6–15 digits
/// (E.164). Spaces and hyphens between digits are allowed.
pub fn is_mobile_number(s: &str) -> bool {
    let s = s.trim();
    let (plus, rest) = match s.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if rest.starts_with([' ', '-']) || rest.ends_with([' ', '-']) {
        return false;
    }
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return false;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let mainland =
        |d: &str| d.len() == 11 && d.starts_with('1') && matches!(d.as_bytes()[1], b'3'..=b'9');
    match (plus, digits.strip_prefix("86")) {
        (_, Some(national)) if mainland(national) => true,
        (false, _) => mainland(&digits),
        (true, _) => (6..=15).contains(&digits.len()) && !digits.starts_with("86"),
    }
}

/// An e-mail address (电子邮箱) as people write them: `local@domain`, one `@`, no spaces, the
/// domain of dot-separated labels (letters, digits, hyphens, not at a label's ends; any
/// non-ASCII letters of internationalised names) with at least one dot.
pub fn is_email_address(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}
