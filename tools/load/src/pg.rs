//! A fresh PostgreSQL database for one run, dropped afterwards.

use crate::LoadError;

/// A database created beside the one `admin` names; dropped (connections forced off) when
/// this is dropped.
#[derive(Debug)]
pub struct FreshDatabase {
    admin: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl FreshDatabase {
    /// `CREATE DATABASE camr_load_<random>` on the server of `admin` (a `postgres://` URL of
    /// a role that may create databases).
    pub fn create(admin: &str) -> Result<Self, LoadError> {
        let mut b = [0u8; 6];
        camr::crypto::default_provider()
            .fill_random(&mut b)
            .map_err(|e| LoadError::Data(format!("random name: {e}")))?;
        let name = format!(
            "camr_load_{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        );
        let (prefix, _) = admin
            .rsplit_once('/')
            .ok_or_else(|| LoadError::Data(format!("`{admin}` names no database")))?;
        run_sql(admin, &format!("CREATE DATABASE {name}"))?;
        Ok(Self {
            admin: admin.to_string(),
            url: format!("{prefix}/{name}"),
            name,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = run_sql(&self.admin, &sql) {
            eprintln!("camr-load: could not drop database {}: {e}", self.name);
        }
    }
}

fn run_sql(url: &str, sql: &str) -> Result<(), LoadError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LoadError::io("the async runtime"))?;
    let failed = |e: sqlx::Error| LoadError::Data(format!("PostgreSQL: {e}"));
    rt.block_on(async {
        use sqlx::Executor as _;
        let pool = sqlx::PgPool::connect(url).await.map_err(failed)?;
        let done = pool
            .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())))
            .await
            .map(|_| ())
            .map_err(failed);
        pool.close().await;
        done
    })
}
