//! The wire messages of co-signing and co-decryption: JSON objects with camelCase fields,
//! points as SEC1 bytes (uncompressed `04‖x‖y` when camr writes them; compressed accepted)
//! and scalars as 32 big-endian bytes, all in standard base64 ([`Bytes`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::protocol::Bytes;

/// Key generation, client → server: the client's public share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeygenRequest {
    /// P1 = d1⁻¹·G, SEC1.
    pub p1: Bytes,
}

/// Key generation, server → client: the joint public key and the server's public share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeygenResponse {
    /// The joint public key P = d2⁻¹·P1 − G, SEC1.
    pub p: Bytes,
    /// P2 = d2⁻¹·G, SEC1; lets the client check P = d1⁻¹·P2 − G.
    pub p2: Bytes,
}

/// Signing, client → server: the client's nonce commitment and the digest to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignRequest {
    /// Q1 = k1·G, SEC1, for a fresh k1.
    pub q1: Bytes,
    /// e = SM3(Z ‖ M), 32 bytes.
    pub e: Bytes,
}

/// Signing, server → client: r and the server's two partial signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignResponse {
    /// r = (e + x1) mod n, 32 bytes.
    pub r: Bytes,
    /// s2 = d2·k3 mod n, 32 bytes.
    pub s2: Bytes,
    /// s3 = d2·(r + k2) mod n, 32 bytes.
    pub s3: Bytes,
}

/// Decryption, client → server: the ciphertext's C1 with the client's share applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecryptRequest {
    /// T1 = d1⁻¹·C1, SEC1.
    pub t1: Bytes,
}

/// Decryption, server → client: T1 with the server's share applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecryptResponse {
    /// T2 = d2⁻¹·T1, SEC1.
    pub t2: Bytes,
}
