//! The live QR code of a transaction: signed afresh for any profile, with the rotating part
//! when the platform rotates its codes (threat 2, real-time QR relay), and the app's request
//! fetch that must present the part it scanned.

use crate::protocol::{SignedRequest, Tid, Transaction, TransactionState};
use crate::qr::{QrProfile, RotationKey};

use super::{CResult, CeremonyError, Platform};

impl Platform {
    /// Rotating QR codes: every code carries a live part (the seconds since the transaction
    /// started and a MAC) that changes each second; the app's request fetch must present it
    /// ([`Platform::request_scanned`]), so a relayed screenshot dies within the window.
    pub fn with_rotation(mut self, key: RotationKey) -> Self {
        self.rotation = Some(key);
        self
    }

    /// The rotation key, when codes rotate.
    pub fn rotation(&self) -> Option<&RotationKey> {
        self.rotation.as_ref()
    }

    /// `payload` with the live part for `tx`, when codes rotate.
    pub(super) fn live_payload(
        &self,
        payload: crate::protocol::QrPayload,
        tx: &Transaction,
    ) -> crate::protocol::QrPayload {
        match &self.rotation {
            Some(key) => key.code_now(payload, tx, self.now()),
            None => payload,
        }
    }

    /// The code to show now for transaction `tid` in `profile` (the platform's own when
    /// `None`): only while it waits for a scan or an answer; an answered, expired or cancelled
    /// transaction has none (`TX_ALREADY_ANSWERED`, `TX_EXPIRED`, `TX_CANCELLED`).
    pub async fn live_code(
        &self,
        tid: &Tid,
        profile: Option<&dyn QrProfile>,
    ) -> CResult<(Transaction, String)> {
        let tx = self.status(tid).await?;
        self.live_code_of(&tx, profile).map(|text| (tx, text))
    }

    /// [`Platform::live_code`] of a transaction already read.
    pub fn live_code_of(
        &self,
        tx: &Transaction,
        profile: Option<&dyn QrProfile>,
    ) -> CResult<String> {
        if !matches!(
            tx.state,
            TransactionState::Created | TransactionState::Scanned
        ) {
            return Err(CeremonyError::NoLiveCode {
                tid: tx.tid.to_string(),
                state: tx.state,
            });
        }
        let profile = profile.unwrap_or(self.qr_profile.as_ref());
        let (payload, _) = self.code_for(profile, tx)?;
        Ok(profile.encode(&self.live_payload(payload, tx)))
    }

    /// The app fetches the signed request object, presenting the rotating part of the code
    /// it scanned (`rot`, `STEP.MAC`) when the platform rotates its codes; checked before the
    /// fetch marks the transaction scanned, so a stale relayed code changes nothing.
    pub async fn request_scanned(&self, tid: &Tid, rot: Option<&str>) -> CResult<SignedRequest> {
        if let Some(key) = &self.rotation {
            let tx = self.status(tid).await?;
            let rot = rot.ok_or(crate::qr::QrError::RotationInvalid {
                reason: "this platform shows rotating QR codes: scan the live code (the \
                         request must carry its rotating part, `rot`)",
            })?;
            let rot = crate::qr::parse_rotation_query(rot)?;
            key.verify(&tx, &rot, self.now())?;
        }
        self.fetch_request(tid).await
    }
}
