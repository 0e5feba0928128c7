//! `camr ca` (the reference software CA) and `camr cert verify` (chain validation).

use std::path::PathBuf;
use std::sync::Arc;

use camr::crypto::{CryptoProvider, KeyAlgorithm};
use camr::qr;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::common::{
    CliResult, Failure, MAX_SMALL_FILE, ask_pin, build_validator, emit, read_chain, read_file,
    write_file,
};

#[derive(Subcommand, Debug)]
pub(crate) enum CaCommand {
    /// Create a CA (root + issuing intermediate) in a folder.
    Init {
        /// CA folder (must not hold a CA yet).
        #[arg(long)]
        dir: PathBuf,
        /// Key algorithm of the CA and of the certificates it issues.
        #[arg(long, value_enum, default_value = "sm2")]
        alg: CaAlgArg,
        /// CA name (organisation of its certificates).
        #[arg(long, default_value = "camr Software CA")]
        name: String,
        /// Where the CA's CRL is served (e.g. softca-cloud `GET /crl`): written into every
        /// certificate it issues as the CRL distribution point.
        #[arg(long)]
        crl_url: Option<String>,
        /// The OCSP responder (e.g. softca-cloud `POST /ocsp`): written into every certificate
        /// it issues (authority information access).
        #[arg(long)]
        ocsp_url: Option<String>,
        /// Where the issuing CA's certificate is (e.g. softca-cloud `GET /ca.cer`): authority
        /// information access, caIssuers.
        #[arg(long)]
        ca_issuers_url: Option<String>,
    },
    /// Issue a signing and an encryption certificate (a wallet folder).
    Issue {
        /// CA folder.
        #[arg(long)]
        dir: PathBuf,
        /// Personal or organisation certificate.
        #[arg(long = "type", value_enum)]
        holder_type: HolderArg,
        /// Holder name (CN), e.g. 张三.
        #[arg(long)]
        name: String,
        /// Organisation (organisation certificates).
        #[arg(long)]
        org: Option<String>,
        /// Unified social credit code, 统一社会信用代码 (organisation certificates).
        #[arg(long)]
        uscc: Option<String>,
        /// Identity number (证件号码), of the document `--id-type` names.
        #[arg(long)]
        id_number: Option<String>,
        /// Identity document type (证件类型): id (居民身份证, the default), residence
        /// (港澳台居民居住证), hkmo (港澳居民来往内地通行证), tw (台湾居民来往大陆通行证), fpr
        /// (外国人永久居留身份证), passport (护照, with --id-country).
        #[arg(long, default_value = "id")]
        id_type: String,
        /// Issuing country of a passport, ISO 3166-1 alpha-2 (e.g. CN, GB).
        #[arg(long)]
        id_country: Option<String>,
        /// PIN protecting the wallet keys (asked for when absent).
        #[arg(long)]
        pin: Option<String>,
        /// Validity in days.
        #[arg(long, default_value_t = camr::softca::USER_VALIDITY_DAYS)]
        days: u64,
        /// Wallet folder to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke (or freeze with --reason certificateHold) a certificate.
    Revoke {
        /// CA folder.
        #[arg(long)]
        dir: PathBuf,
        /// Serial number, hex.
        #[arg(long)]
        serial: String,
        /// Reason.
        #[arg(long, value_enum, default_value = "unspecified")]
        reason: ReasonArg,
        /// Since when the key is known or suspected to be compromised, Unix seconds (the CRL
        /// entry's invalidityDate; signatures made after it are not valid at signing time).
        #[arg(long)]
        compromised_since: Option<i64>,
    },
    /// Lift a freeze (解冻): the certificate is good again on the next CRL.
    Unfreeze {
        /// CA folder.
        #[arg(long)]
        dir: PathBuf,
        /// Serial number, hex.
        #[arg(long)]
        serial: String,
    },
    /// Write a fresh CRL of the issuing CA (DER).
    Crl {
        /// CA folder.
        #[arg(long)]
        dir: PathBuf,
        /// Output file (DER; PEM when it ends in .pem).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum CaAlgArg {
    Sm2,
    Rsa,
    P256,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum HolderArg {
    Personal,
    Org,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
#[value(rename_all = "camelCase")]
pub(crate) enum ReasonArg {
    Unspecified,
    KeyCompromise,
    Superseded,
    CertificateHold,
}

#[derive(Subcommand, Debug)]
pub(crate) enum CertCommand {
    /// Validate a certificate chain; prints the subject as JSON, or the failing check.
    Verify(CertVerifyArgs),
}

#[derive(Args, Debug)]
pub(crate) struct CertVerifyArgs {
    /// Trusted roots: a PEM bundle or a folder of certificates.
    #[arg(long)]
    trust: PathBuf,
    /// CRLs (DER or PEM), repeatable.
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// Require a fresh CRL for every certificate below the root.
    #[arg(long)]
    require_crl: bool,
    /// What the certificate is used for.
    #[arg(long, value_enum, default_value = "sign")]
    usage: UsageArg,
    /// Intermediate certificates (PEM bundle), repeatable.
    #[arg(long)]
    chain: Vec<PathBuf>,
    /// Validate as of this Unix time instead of now.
    #[arg(long)]
    at: Option<i64>,
    /// The certificate (PEM or DER).
    cert: PathBuf,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum UsageArg {
    Sign,
    Encrypt,
    Any,
}

pub(crate) fn ca(json_out: bool, provider: &Arc<dyn CryptoProvider>, c: &CaCommand) -> CliResult {
    use camr::softca::{Holder, HolderType, RevocationReason, SoftCa};
    match c {
        CaCommand::Init {
            dir,
            alg,
            name,
            crl_url,
            ocsp_url,
            ca_issuers_url,
        } => {
            let alg = match alg {
                CaAlgArg::Sm2 => KeyAlgorithm::Sm2,
                CaAlgArg::Rsa => KeyAlgorithm::Rsa2048,
                CaAlgArg::P256 => KeyAlgorithm::P256,
            };
            let urls = camr::softca::CaUrls {
                crl_url: crl_url.clone(),
                ocsp_url: ocsp_url.clone(),
                ca_issuers_url: ca_issuers_url.clone(),
            };
            // Checked before anything is written: a bad URL leaves no CA behind.
            urls.check().map_err(camr::Error::from)?;
            let mut ca =
                SoftCa::init(provider.clone(), dir, alg, name).map_err(camr::Error::from)?;
            if urls != camr::softca::CaUrls::default() {
                ca.set_urls(urls).map_err(camr::Error::from)?;
            }
            emit(
                json_out,
                json!({"dir": dir, "root": ca.root().subject(), "issuingCa": ca.issuing_ca().subject()}),
                || {
                    format!(
                        "CA created in {} (root {}, issuing CA {})",
                        dir.display(),
                        ca.root().serial_hex(),
                        ca.issuing_ca().serial_hex()
                    )
                },
            );
            Ok(())
        }
        CaCommand::Issue {
            dir,
            holder_type,
            name,
            org,
            uscc,
            id_number,
            id_type,
            id_country,
            pin,
            days,
            out,
        } => {
            let mut ca = SoftCa::open(provider.clone(), dir).map_err(camr::Error::from)?;
            let identity = id_number
                .as_deref()
                .map(|n| {
                    let t = camr::pki::IdentityType::parse_name(id_type)?;
                    match (t, id_country.as_deref()) {
                        (camr::pki::IdentityType::Passport, Some(c)) => {
                            camr::pki::IdentityDocument::passport(c, n)
                        }
                        (camr::pki::IdentityType::Passport, None) => {
                            camr::pki::IdentityDocument::passport("", n)
                        }
                        (t, _) => camr::pki::IdentityDocument::new(t, n),
                    }
                })
                .transpose()
                .map_err(|e| camr::Error::from(camr::softca::CaError::Input(e.to_string())))?;
            let holder = Holder {
                holder_type: match holder_type {
                    HolderArg::Personal => HolderType::Personal,
                    HolderArg::Org => HolderType::Org,
                },
                name: name.clone(),
                organization: org.clone(),
                uscc: uscc.clone(),
                identity_number: identity,
            };
            let pin = match pin {
                Some(p) => zeroize::Zeroizing::new(p.clone().into_bytes()),
                None => ask_pin()?,
            };
            let w = ca
                .issue(&holder, &pin, out, *days)
                .map_err(camr::Error::from)?;
            emit(
                json_out,
                json!({"wallet": out, "signSerial": w.sign_serial, "encSerial": w.enc_serial}),
                || {
                    format!(
                        "wallet written to {} (signing cert {}, encryption cert {})",
                        out.display(),
                        w.sign_serial,
                        w.enc_serial
                    )
                },
            );
            Ok(())
        }
        CaCommand::Unfreeze { dir, serial } => {
            let mut ca = SoftCa::open(provider.clone(), dir).map_err(camr::Error::from)?;
            ca.release_hold(serial).map_err(camr::Error::from)?;
            emit(json_out, json!({"unfrozen": serial}), || {
                format!("unfrozen (解冻) {serial}; publish a new CRL with `camr ca crl`")
            });
            Ok(())
        }
        CaCommand::Revoke {
            dir,
            serial,
            reason,
            compromised_since,
        } => {
            let mut ca = SoftCa::open(provider.clone(), dir).map_err(camr::Error::from)?;
            let reason = match reason {
                ReasonArg::Unspecified => RevocationReason::Unspecified,
                ReasonArg::KeyCompromise => RevocationReason::KeyCompromise,
                ReasonArg::Superseded => RevocationReason::Superseded,
                ReasonArg::CertificateHold => RevocationReason::CertificateHold,
            };
            ca.revoke_with_invalidity(serial, reason, qr::unix_now(), *compromised_since)
                .map_err(camr::Error::from)?;
            emit(json_out, json!({"revoked": serial}), || {
                format!("revoked {serial}; publish a new CRL with `camr ca crl`")
            });
            Ok(())
        }
        CaCommand::Crl { dir, out } => {
            let mut ca = SoftCa::open(provider.clone(), dir).map_err(camr::Error::from)?;
            let crl = ca.crl(qr::unix_now()).map_err(camr::Error::from)?;
            let pem = out.extension().is_some_and(|e| e == "pem");
            let bytes = if pem {
                let text = camr::pki::pem_encode("X509 CRL", crl.der());
                text.into_bytes()
            } else {
                crl.der().to_vec()
            };
            write_file(out, &bytes, false)?;
            emit(json_out, json!({"out": out}), || {
                format!("CRL written to {}", out.display())
            });
            Ok(())
        }
    }
}

pub(crate) fn cert(provider: &Arc<dyn CryptoProvider>, a: &CertVerifyArgs) -> CliResult {
    use camr::pki::{Certificate, KeyPurpose};
    let cert_err = |e: camr::pki::CertError| Failure::from(camr::Error::from(e));
    let validator = build_validator(provider, &a.trust, &a.crl, a.require_crl)?;
    let chain = read_chain(&a.chain)?;
    let cert = Certificate::parse_one(&read_file(&a.cert, MAX_SMALL_FILE, "certificate")?)
        .map_err(cert_err)?;
    let purpose = match a.usage {
        UsageArg::Sign => KeyPurpose::Sign,
        UsageArg::Encrypt => KeyPurpose::Encrypt,
        UsageArg::Any => KeyPurpose::Any,
    };
    let v = validator
        .validate(&cert, &chain, purpose, a.at.unwrap_or_else(qr::unix_now))
        .map_err(cert_err)?;
    let chain: Vec<_> = v
        .chain
        .iter()
        .map(|c| json!({"subject": c.common_name(), "serial": c.serial_hex()}))
        .collect();
    // CRLs of the right issuer that could not be used (best effort): shown, not hidden.
    let skipped: Vec<_> = v
        .skipped_crls
        .iter()
        .map(|s| json!({"issuer": s.issuer, "certificate": s.certificate, "reason": s.reason}))
        .collect();
    println!(
        "{}",
        json!({"valid": true, "subject": v.subject, "chain": chain, "revocationChecked": v.revocation_checked, "skippedCrls": skipped})
    );
    Ok(())
}
