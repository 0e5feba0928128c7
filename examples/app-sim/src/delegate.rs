//! `camr-app delegate`: an organisation grants a staff member the use of its certificate.

use super::*;

/// What `camr-app delegate` was told: the organisation's wallet and what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateOptions {
    /// The organisation certificate's wallet (its holder signs the delegation).
    pub wallet: PathBuf,
    /// Its PIN.
    pub pin: String,
    /// The staff member's name.
    pub staff_name: String,
    /// The staff member's identity number.
    pub staff_id: Option<String>,
    /// Trading systems (system codes).
    pub systems: Vec<String>,
    /// Operations (`login`, `encrypt`, `decrypt`, ...).
    pub operations: Vec<String>,
    /// Valid from (Unix seconds).
    pub not_before: i64,
    /// Valid until (Unix seconds).
    pub not_after: i64,
}

/// The organisation grants a staff member the use of its certificate (证书授权): signs a
/// [`camr::app::Delegation`] with the organisation wallet. Returns it and its id (what a
/// platform withdraws, 收回, with `POST /api/v1/admin/delegations/withdraw`).
pub fn delegate(
    options: &DelegateOptions,
    ui: &mut dyn Ui,
) -> Result<(camr::app::SignedDelegation, String), SimError> {
    let bad = |m: String| SimError::new(ErrorCode::InputMalformed, m);
    let trading_systems = options
        .systems
        .iter()
        .map(|s| camr::protocol::SystemCode::parse(s).map_err(|e| bad(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let operations = options
        .operations
        .iter()
        .map(|o| {
            o.parse::<Operation>()
                .map_err(|_| bad(format!("`{o}` is not an operation (login, messageSignature, signature, revokeSignature, encrypt, decrypt)")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if trading_systems.is_empty() || operations.is_empty() || options.staff_name.trim().is_empty() {
        return Err(bad(
            "a delegation names the staff member, at least one trading system and one operation"
                .into(),
        ));
    }
    if options.not_after <= options.not_before {
        return Err(bad("the delegation's period ends before it starts".into()));
    }
    let wallet = unlock_wallet(&options.wallet, Some(&options.pin), ui)?;
    if wallet.sign_cert.cert_type() != camr::protocol::CertType::OrgCert {
        return Err(SimError::new(
            ErrorCode::CertWrongUsage,
            "only an organisation certificate (机构证书) is delegated; this wallet's is a personal one",
        ));
    }
    let d = camr::app::Delegation {
        org_cert_sn: wallet.sign_cert.serial_hex(),
        staff_name: options.staff_name.trim().to_string(),
        staff_id: options.staff_id.clone(),
        trading_systems,
        operations,
        not_before: options.not_before,
        not_after: options.not_after,
    };
    let provider = default_provider();
    let signed = camr::app::delegation::issue(provider.as_ref(), &wallet, &d)?;
    let id = camr::app::delegation::id(provider.as_ref(), &signed);
    ui.say(&format!(
        "授权 {} may use {} (SN {}) on {} for {} until {}; id {id}",
        d.operator(),
        wallet.sign_cert.common_name(),
        d.org_cert_sn,
        options.systems.join(", "),
        options.operations.join(", "),
        d.not_after
    ));
    Ok((signed, id))
}
