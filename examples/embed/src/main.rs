//! `camr-embed DATA ADAPTER.so [ADDR]`: runs the embedding example. On first start it makes
//! a demo CA and a wallet (PIN 123456) in `DATA`; then scan its QR codes with
//! `camr-app scan --wallet DATA/wallet --platform-key DATA/platform-pub.pem --qr-text …`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;

use camr::crypto::{KeyAlgorithm, default_provider};
use camr::softca::{Holder, SoftCa};

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: camr-embed DATA ADAPTER.so [ADDR]";
    let data = PathBuf::from(args.next().ok_or(usage)?);
    let adapter = PathBuf::from(args.next().ok_or(usage)?);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8090".into());
    let provider = default_provider();
    let ca_dir = data.join("ca");
    let ca = if ca_dir.exists() {
        SoftCa::open(provider.clone(), &ca_dir).map_err(|e| e.to_string())?
    } else {
        let mut ca = SoftCa::init(provider, &ca_dir, KeyAlgorithm::Sm2, "camr embed demo CA")
            .map_err(|e| e.to_string())?;
        let holder = Holder::personal("张三");
        ca.issue(&holder, b"123456", &data.join("wallet"), 365)
            .map_err(|e| e.to_string())?;
        ca
    };
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let url = format!("http://{addr}");
    let app = camr_embed::platform(&data, &url, ca.root().der(), &adapter).await?;
    let pem = app
        .platform
        .public_key()
        .to_spki_pem()
        .map_err(|e| e.to_string())?;
    std::fs::write(data.join("platform-pub.pem"), pem).map_err(|e| e.to_string())?;
    eprintln!("camr-embed on {url}: POST /login, POST /decrypt (a bid envelope)");
    axum::serve(listener, camr_embed::router(Arc::new(app)))
        .await
        .map_err(|e| e.to_string())
}
