//! An app's answer (`Response` JSON) into `Platform::answer`: a fixed platform (memory store,
//! the fixed CA trusted, the fixed clock) with one scanned login waiting. The first byte picks
//! whether the answer is pointed at the waiting transaction (its tid and request hash put in),
//! so the checks past the binding are reached too; the rest is the JSON.
#![no_main]
use std::sync::{Arc, Mutex, OnceLock};

use camr::ceremony::{Platform, PlatformIdentity};
use camr::crypto::{HashAlgorithm, KeyAlgorithm};
use camr::protocol::{Response, SystemCode, Tid, TransactionState};
use camr::store::{MemoryStore, TransactionStore};
use libfuzzer_sys::fuzz_target;

struct Waiting {
    platform: Platform,
    store: Arc<MemoryStore>,
    /// The scanned login and its request hash.
    live: Mutex<Option<(Tid, String)>>,
}

fn waiting() -> &'static Waiting {
    static W: OnceLock<Waiting> = OnceLock::new();
    W.get_or_init(|| {
        let f = camr_fuzz::fixture();
        let key = f
            .provider
            .generate_key(KeyAlgorithm::Sm2)
            .expect("platform key");
        let store = Arc::new(MemoryStore::new());
        let identity = PlatformIdentity {
            system_code: SystemCode::parse("C1100005553").expect("system code"),
            system_name: "camr fuzz platform".into(),
            request_uri_prefix: "https://platform.example/camr/v1/request/".into(),
            response_uri: "https://platform.example/camr/v1/response".into(),
        };
        let platform = Platform::new(
            f.provider.clone(),
            identity,
            key,
            None,
            store.clone(),
            f.validator.clone(),
        )
        .expect("platform")
        .with_clock(camr_fuzz::fixed_now);
        Waiting {
            platform,
            store,
            live: Mutex::new(None),
        }
    })
}

/// The waiting login, a new one when the last left `scanned`.
fn live(w: &Waiting) -> (Tid, String) {
    let rt = camr_fuzz::runtime();
    let mut live = w.live.lock().expect("lock");
    if let Some((tid, hash)) = live.as_ref() {
        let still = rt.block_on(w.store.get(tid)).ok().flatten();
        if still.is_some_and(|r| r.transaction.state == TransactionState::Scanned) {
            return (tid.clone(), hash.clone());
        }
    }
    let f = camr_fuzz::fixture();
    let started = rt.block_on(w.platform.start_login()).expect("start");
    let tid = started.transaction.tid;
    let request = rt.block_on(w.platform.request(&tid)).expect("request");
    let hash = data_encoding::HEXLOWER.encode(
        &f.provider
            .digest(HashAlgorithm::Sm3, request.request.as_bytes()),
    );
    *live = Some((tid.clone(), hash.clone()));
    (tid, hash)
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, json)) = data.split_first() else {
        return;
    };
    let Ok(mut response) = serde_json::from_slice::<Response>(json) else {
        return;
    };
    let w = waiting();
    let (tid, hash) = live(w);
    if mode & 1 == 1 {
        response.tid = tid.clone();
        response.request_hash = hash;
    }
    let _ = camr_fuzz::runtime().block_on(w.platform.answer(&tid, &response));
});
