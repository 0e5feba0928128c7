//! Finding the wallet to answer with: the wallets in the given folders, filtered by what
//! the request accepts.

use super::*;

/// The wallets in `folders`: a folder holding a wallet, else each of its sub-folders that
/// holds one (e.g. `personal/` and `org/`), in name order.
pub fn wallet_candidates(folders: &[PathBuf]) -> Vec<PathBuf> {
    let has = |p: &std::path::Path| p.join(camr::softca::wallet_files::SIGN_CERT).exists();
    let mut out = Vec::new();
    for f in folders {
        if has(f) {
            out.push(f.clone());
            continue;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(f)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| has(p))
                    .collect()
            })
            .unwrap_or_default();
        subs.sort();
        out.extend(subs);
    }
    out
}

/// The holder's identity document (证件类型) as the certificate names it, e.g. `证件 Identity
/// document: 护照 passport (GB) 123456789`.
pub(crate) fn identity_line(subject: &camr::pki::Subject) -> Option<String> {
    let t = subject.identity_type?;
    let name = serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Some(format!(
        "证件 Identity document: {} {name}{} {}",
        t.chinese_name(),
        subject
            .identity_country
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default(),
        subject.identity_number.as_deref().unwrap_or_default()
    ))
}

pub(crate) fn subject_label(t: camr::protocol::SubjectType) -> &'static str {
    match t {
        camr::protocol::SubjectType::Personal => "个人证书 personal certificate",
        camr::protocol::SubjectType::Org => "机构证书 organisation certificate",
    }
}

/// The wallet to answer with: among the wallets in `folders` ([`wallet_candidates`]), those
/// of the kind chosen with `cert` and that the request accepts (`requires`: this app's
/// vendor [`VENDOR`], personal or organisation certificate). One fits: that one. None:
/// `CERT_NOT_ENTITLED`, and `ui` is told why each does not. Several: the user must choose.
pub fn select_wallet(
    folders: &[PathBuf],
    cert: Option<CertChoice>,
    requires: Option<&camr::protocol::CertRequirement>,
    ui: &mut dyn Ui,
) -> Result<PathBuf, SimError> {
    use camr::protocol::{CertType, SubjectType};
    let candidates = wallet_candidates(folders);
    if candidates.is_empty() {
        return Err(SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "no wallet in {}",
                folders
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut held = Vec::new();
    for dir in &candidates {
        let v = vendors::vendor_of(dir)?.ca_org_type;
        if !held.contains(&v) {
            held.push(v);
        }
    }
    let accepted = |v: &str| {
        requires.is_none_or(|r| r.ca_org_types.is_empty() || r.ca_org_types.iter().any(|a| a == v))
    };
    if let Some(r) = requires.filter(|_| !held.iter().any(|v| accepted(v))) {
        let why = format!(
            "this platform accepts certificates of {} only; this app holds {} certificates",
            r.ca_org_types.join(", "),
            held.join(", ")
        );
        ui.say(&format!(
            "本平台不接受此 CA 的证书 Not accepted here: {why}"
        ));
        return Err(SimError::new(ErrorCode::CertNotEntitled, why));
    }
    let want = requires.and_then(|r| r.subject_type);
    let mut fitting = Vec::new();
    let mut reasons = Vec::new();
    for dir in candidates {
        let path = dir.join(camr::softca::wallet_files::SIGN_CERT);
        let c = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| camr::pki::Certificate::parse_one(&b).map_err(|e| e.to_string()))
            .map_err(|e| {
                SimError::new(ErrorCode::CertMalformed, format!("{}: {e}", path.display()))
            })?;
        let kind = match c.cert_type() {
            CertType::OrgCert => SubjectType::Org,
            CertType::PersonalCert => SubjectType::Personal,
        };
        let label = format!(
            "{} ({}, SN {}, {})",
            c.common_name(),
            subject_label(kind),
            c.serial_hex(),
            dir.display()
        );
        let chosen = match cert {
            Some(CertChoice::Org) => kind == SubjectType::Org,
            Some(CertChoice::Personal) => kind == SubjectType::Personal,
            None => true,
        };
        let vendor = vendors::vendor_of(&dir)?.ca_org_type;
        if !chosen {
            reasons.push(format!("{label}: not the kind chosen with --cert"));
        } else if !accepted(&vendor) {
            reasons.push(format!(
                "{label}: a {vendor} certificate, not accepted here"
            ));
        } else if want.is_some_and(|w| w != kind) {
            reasons.push(format!(
                "{label}: the platform requires a {}",
                want.map(subject_label).unwrap_or_default()
            ));
        } else {
            fitting.push((dir, label));
        }
    }
    match fitting.len() {
        1 => Ok(fitting.remove(0).0),
        0 => {
            ui.say("没有符合要求的证书 No certificate of this app fits:");
            for r in &reasons {
                ui.say(&format!("  - {r}"));
            }
            let code = if want.is_some() {
                ErrorCode::CertNotEntitled
            } else {
                ErrorCode::InputMalformed
            };
            Err(SimError::new(
                code,
                format!("no certificate fits: {}", reasons.join("; ")),
            ))
        }
        _ => Err(SimError::new(
            ErrorCode::InputMalformed,
            format!(
                "several certificates fit ({}): choose one with --cert personal|org, or name one wallet",
                fitting
                    .iter()
                    .map(|(_, l)| l.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )),
    }
}
