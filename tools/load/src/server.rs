//! The server under load: a `camr-server` process on a fixed port, killed with SIGKILL and
//! started again on the same port, data folder and store.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::LoadError;

/// Where the server keeps its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// The default SQLite file, `<data>/camr.db`.
    Sqlite,
    /// A PostgreSQL database (`postgres://…`); it must exist.
    Postgres(String),
}

impl Store {
    /// `sqlite` or a `postgres://` URL.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "sqlite" => Ok(Self::Sqlite),
            url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Self::Postgres(url.to_string()))
            }
            other => Err(format!(
                "`{other}`: the store is `sqlite` or a postgres:// URL"
            )),
        }
    }

    /// Its name in reports: `SQLite` or `PostgreSQL`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The `camr-server` binary.
    pub bin: PathBuf,
    /// Its data folder (demo CA, wallet and platform key are written there on first start).
    pub data: PathBuf,
    /// Its store.
    pub store: Store,
    /// Loopback port (the same after a restart, so the QR codes' URIs stay right).
    pub port: u16,
    /// `rate_limit.per_minute` (0: off; the load comes from one address).
    pub rate_limit_per_minute: u64,
}

/// A running server; killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Server {
    spec: ServerSpec,
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

/// How long a start may take (a first start writes the demo CA and wallet).
const READY: Duration = Duration::from_secs(120);

/// The `camr-server` binary built beside this program (`target/<profile>/`): `$CAMR_SERVER_BIN`
/// if set, else next to the running executable or one folder up (a test runs from `deps/`).
/// `cargo build -p camr-server` makes it; `cargo test --workspace` builds it before any test.
pub fn server_binary() -> Result<PathBuf, LoadError> {
    if let Some(bin) = std::env::var_os("CAMR_SERVER_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe().map_err(LoadError::io("this program's path"))?;
    let dirs = exe.ancestors().skip(1).take(2);
    let found = dirs.map(|d| d.join("camr-server")).find(|p| p.is_file());
    found.ok_or_else(|| LoadError::Spawn {
        bin: format!("camr-server beside {}", exe.display()),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    })
}

/// A free loopback port.
pub fn free_port() -> Result<u16, LoadError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(LoadError::io("a free port"))?;
    Ok(l.local_addr().map_err(LoadError::io("a free port"))?.port())
}

impl Server {
    /// Starts the server and waits until `/readyz` answers.
    pub fn start(spec: ServerSpec) -> Result<Self, LoadError> {
        let mut server = Self {
            base: format!("http://127.0.0.1:{}", spec.port),
            spec,
            child: None,
        };
        server.spawn()?;
        Ok(server)
    }

    /// The log file (stderr of every start, appended).
    pub fn log(&self) -> PathBuf {
        self.spec.data.with_extension("server.log")
    }

    /// The data folder.
    pub fn data(&self) -> &Path {
        &self.spec.data
    }

    /// How it was started.
    pub fn spec(&self) -> &ServerSpec {
        &self.spec
    }

    fn spawn(&mut self) -> Result<(), LoadError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .map_err(LoadError::io(format!("{}", self.log().display())))?;
        let mut cmd = Command::new(&self.spec.bin);
        cmd.args(["--listen", &format!("127.0.0.1:{}", self.spec.port)])
            .arg("--data")
            .arg(&self.spec.data)
            .args(["--public-url", &self.base])
            .env(
                "CAMR_SERVER_RATE_LIMIT_PER_MINUTE",
                self.spec.rate_limit_per_minute.to_string(),
            )
            .stdout(Stdio::null())
            .stderr(log);
        if let Store::Postgres(url) = &self.spec.store {
            cmd.args(["--database-url", url]);
        }
        let child = cmd.spawn().map_err(|source| LoadError::Spawn {
            bin: self.spec.bin.display().to_string(),
            source,
        })?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), LoadError> {
        let client = crate::http_client(Duration::from_secs(5))?;
        let deadline = Instant::now() + READY;
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send()
                && r.status().is_success()
            {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(_)) = child.try_wait()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(LoadError::NotReady {
            base: self.base.clone(),
            secs: READY.as_secs(),
            log: self.log().display().to_string(),
        })
    }

    /// `kill -9`: the process gets no chance to finish anything.
    pub fn kill9(&mut self) -> Result<(), LoadError> {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` is SIGKILL on Unix.
            child.kill().map_err(LoadError::io("kill -9 camr-server"))?;
            child.wait().map_err(LoadError::io("reaping camr-server"))?;
        }
        Ok(())
    }

    /// Starts it again on the same port, data folder and store.
    pub fn restart(&mut self) -> Result<(), LoadError> {
        self.kill9()?;
        self.spawn()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}
