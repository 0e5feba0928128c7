//! The app simulator (`camr-app scan`) in the tests: its terminal, the options of a scan and a
//! scan off the runtime's threads.

use std::path::PathBuf;

use camr_app_sim::{Outcome, PlatformKeySource, QrSource, ScanOptions, SimError, Ui};

/// The simulator's terminal: records what it was shown (and, [`Lines::with_prompts`], what
/// it was asked), answers nothing.
#[derive(Default)]
pub struct Lines {
    lines: Vec<String>,
    prompts: bool,
}

impl Lines {
    /// A terminal that records the prompts too.
    pub fn with_prompts() -> Self {
        Self {
            lines: Vec::new(),
            prompts: true,
        }
    }

    /// What the terminal recorded, a line each.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl Ui for Lines {
    fn say(&mut self, line: &str) {
        self.lines.push(line.to_string());
    }
    fn ask(&mut self, prompt: &str) -> Option<String> {
        if self.prompts {
            self.lines.push(prompt.to_string());
        }
        None
    }
}

/// `camr-app scan` of the QR text `qr` with the wallet `wallet` and `pin`, confirmed, the
/// platform's key taken from the platform itself.
pub fn scan_options(qr: &str, wallet: PathBuf, pin: &str) -> ScanOptions {
    ScanOptions {
        qr: QrSource::Payload(qr.to_string()),
        wallet,
        pin: Some(pin.into()),
        reject: None,
        yes: true,
        platform_key: PlatformKeySource::TrustPlatformUrl,
        cert: None,
        delegation: None,
        wallets: Vec::new(),
        refuse_items: Vec::new(),
    }
}

/// The app simulator's whole scan on terminal `ui`: its result and what it showed.
pub fn scan_on(options: &ScanOptions, mut ui: Lines) -> (Result<Outcome, SimError>, String) {
    let r = camr_app_sim::scan(options, &mut ui);
    (r, ui.text())
}

/// The app simulator's whole scan, off the runtime's threads: its result and what it showed.
pub async fn sim(options: ScanOptions) -> (Result<Outcome, SimError>, String) {
    sim_on(options, Lines::default()).await
}

/// [`sim`] on terminal `ui`.
pub async fn sim_on(options: ScanOptions, ui: Lines) -> (Result<Outcome, SimError>, String) {
    tokio::task::spawn_blocking(move || scan_on(&options, ui))
        .await
        .unwrap()
}
