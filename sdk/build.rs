//! Rebuild when a migration is added (sqlx embeds them with `migrate!`).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations-postgres");
}
