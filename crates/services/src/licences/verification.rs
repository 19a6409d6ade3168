//! Verifying a licence by its identifier (what the public page and API show: never `valid`
//! unless authentic and in force; personal data masked) and a signed document offline.

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use yiwang_domain::codes::LicenceId;
use yiwang_store::Row;

use super::{local_today, seals};
use crate::{Platform, ServiceError};

/// The most verified signatures remembered.
const VERIFIED_MAX: usize = 100_000;

/// What a verification found.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Authentic, in force.
    Valid,
    /// Authentic, past its validity.
    Expired,
    /// Authentic, suspended (暂扣).
    Suspended,
    /// Authentic, revoked (注销/吊销).
    Revoked,
    /// Authentic, replaced by a newer version (变更).
    Superseded,
    /// The signature does not verify, or the seal was revoked before it signed: not authentic.
    Forged,
    /// No licence has this identifier.
    Unknown,
    /// Not an identifier (wrong form or check character).
    Malformed,
}

impl Outcome {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Outcome::Valid => "有效",
            Outcome::Expired => "已过期",
            Outcome::Suspended => "已暂扣",
            Outcome::Revoked => "已注销",
            Outcome::Superseded => "已变更（有新版本）",
            Outcome::Forged => "验证失败：签名无效",
            Outcome::Unknown => "未找到该证照",
            Outcome::Malformed => "证照标识格式或校验位错误",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::Expired => "expired",
            Outcome::Suspended => "suspended",
            Outcome::Revoked => "revoked",
            Outcome::Superseded => "superseded by a newer version",
            Outcome::Forged => "verification failed: the signature is not valid",
            Outcome::Unknown => "no licence has this identifier",
            Outcome::Malformed => "not a licence identifier (form or check character)",
        }
    }
}

/// The public answer of a verification: no unmasked personal data.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The identifier as asked (normalised when it parsed).
    pub id: String,
    /// What was found.
    pub outcome: Outcome,
    /// The reason when the identifier did not parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The licence, when found and authentic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence: Option<PublicLicence>,
}

/// What anyone may see of an authentic licence.
#[derive(Debug, Clone, Serialize)]
pub struct PublicLicence {
    /// 证照名称.
    pub name: String,
    /// 证照类型代码.
    pub type_code: String,
    /// 证照编号.
    pub number: String,
    /// 持证主体, masked.
    pub holder_name: String,
    /// 持证主体代码, masked.
    pub holder_code: String,
    /// 颁证单位.
    pub issuer_name: String,
    /// 颁证单位代码.
    pub issuer_code: String,
    /// 颁证日期.
    pub issued_on: String,
    /// 有效期起.
    pub valid_from: String,
    /// 有效期止 (`None`: 长期).
    pub valid_to: Option<String>,
    /// The licence's fields in order: (label, value).
    pub fields: Vec<(String, String)>,
    /// The status reason (suspension, revocation).
    pub status_reason: Option<String>,
    /// The seal that signed it.
    pub seal_id: String,
    /// Its name.
    pub seal_name: String,
}

/// Verifies a licence by its identifier (the public page and API).
pub async fn verify(p: &Platform, id: &str) -> Result<Verification, ServiceError> {
    let id = match LicenceId::parse(id) {
        Ok(id) => id,
        Err(e) => {
            return Ok(Verification {
                id: id.trim().chars().take(200).collect(),
                outcome: Outcome::Malformed,
                problem: Some(e.to_string()),
                licence: None,
            });
        }
    };
    let row = sqlx::query(
        "SELECT l.data_sealed, l.signature, l.status, l.status_reason, l.valid_to, l.created_at, \
         l.seal_id, s.name AS seal_name, s.distid, s.public_key, s.revoked_at \
         FROM licences l JOIN seals s ON s.id = l.seal_id WHERE l.id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(p.db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(Verification {
            id: id.as_str().to_owned(),
            outcome: Outcome::Unknown,
            problem: None,
            licence: None,
        });
    };
    let forged = || Verification {
        id: id.as_str().to_owned(),
        outcome: Outcome::Forged,
        problem: None,
        licence: None,
    };
    let sealed: String = row.try_get("data_sealed")?;
    let signature: String = row.try_get("signature")?;
    let Ok(data) = super::open_data(p, &sealed) else {
        return Ok(forged());
    };
    let seal = SigningSeal {
        id: row.try_get("seal_id")?,
        name: row.try_get("seal_name")?,
        distid: row.try_get("distid")?,
        public_key: row.try_get("public_key")?,
        revoked_at: row.try_get("revoked_at")?,
    };
    let created: String = row.try_get("created_at")?;
    if !authentic(p, id.as_str(), &data, &signature, &seal, &created)? {
        return Ok(forged());
    }
    let doc: Value = serde_json::from_str(&data)?;
    // The data must be about this identifier (a row's data swapped for another's is forged).
    if doc["id"] != id.as_str() {
        return Ok(forged());
    }
    let status: String = row.try_get("status")?;
    let valid_to: Option<String> = row.try_get("valid_to")?;
    let today = local_today(p).to_string();
    let outcome = match status.as_str() {
        "suspended" => Outcome::Suspended,
        "revoked" => Outcome::Revoked,
        "superseded" => Outcome::Superseded,
        "expired" => Outcome::Expired,
        _ if valid_to.as_deref().is_some_and(|to| to < today.as_str()) => Outcome::Expired,
        _ => Outcome::Valid,
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let holder_code = text(&doc["holder"]["code"]);
    let holder_name = text(&doc["holder"]["name"]);
    let person = doc["holder"]["code_type"] == "111";
    let masked_name = if person {
        yiwang_crypto::mask::mask_name(&holder_name)
    } else {
        holder_name.clone()
    };
    let masked_code = if person {
        yiwang_crypto::mask::mask_id_number(&holder_code)
    } else {
        yiwang_crypto::mask::mask_credit_code(&holder_code)
    };
    // A field repeating the holder's name or code is masked like them.
    let field_value = |v: String| {
        if v == holder_code {
            masked_code.clone()
        } else if v == holder_name {
            masked_name.clone()
        } else {
            v
        }
    };
    let fields = doc["fields"]
        .as_object()
        .map(|m| {
            super::ordered_fields(m)
                .into_iter()
                .map(|(label, value)| (label, field_value(value)))
                .collect()
        })
        .unwrap_or_default();
    Ok(Verification {
        id: id.as_str().to_owned(),
        outcome,
        problem: None,
        licence: Some(PublicLicence {
            name: text(&doc["name"]),
            type_code: text(&doc["type_code"]),
            number: text(&doc["number"]),
            holder_name: masked_name.clone(),
            holder_code: masked_code.clone(),
            issuer_name: text(&doc["issuer"]["name"]),
            issuer_code: text(&doc["issuer"]["code"]),
            issued_on: text(&doc["issued_on"]),
            valid_from: text(&doc["valid_from"]),
            valid_to: doc["valid_to"].as_str().map(str::to_owned),
            fields,
            status_reason: row.try_get("status_reason")?,
            seal_id: seal.id.clone(),
            seal_name: seal.name.clone(),
        }),
    })
}

/// Whether `signature` over `data` verifies under the seal, which had not been revoked when the
/// licence was made; remembered per (licence, signature).
/// What verification needs of the seal that signed a licence.
struct SigningSeal {
    id: String,
    name: String,
    distid: String,
    public_key: String,
    revoked_at: Option<String>,
}

fn authentic(
    p: &Platform,
    id: &str,
    data: &str,
    signature: &str,
    seal: &SigningSeal,
    created: &str,
) -> Result<bool, ServiceError> {
    if seal.revoked_at.as_deref().is_some_and(|r| r <= created) {
        return Ok(false);
    }
    let key = (id.to_owned(), signature.to_owned());
    let cache = &p.licences.verified;
    if let Some(ok) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(*ok);
    }
    let ok = match Base64::decode_vec(signature) {
        Ok(sig) => seals::verifier(p, &seal.id, &seal.distid, &seal.public_key)?
            .verify(data.as_bytes(), &sig)
            .is_ok(),
        Err(_) => false,
    };
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= VERIFIED_MAX {
        cache.clear();
    }
    cache.insert(key, ok);
    Ok(ok)
}

/// A licence document for offline verification (`yiwang licence verify FILE`, OpenSSL): the
/// exact signed bytes, the signature and the seal's published key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LicenceDocument {
    /// Format marker: `yiwang-licence/1`.
    pub format: String,
    /// The signed data (canonical JSON text).
    pub data: String,
    /// DER signature, Base64.
    pub signature: String,
    /// The signing seal.
    pub seal_id: String,
    /// Its name.
    pub seal_name: String,
    /// The SM2 distinguishing ID.
    pub distid: String,
    /// The seal's public key as SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
}

/// The format marker of [`LicenceDocument`].
pub const DOCUMENT_FORMAT: &str = "yiwang-licence/1";

/// Checks a licence document offline, with no database: the signature over its data under the
/// key it names, or under `trusted_pem` (the seal's key as published) when given. Returns the
/// licence data.
pub fn verify_document(doc: &str, trusted_pem: Option<&str>) -> Result<Value, String> {
    let doc: LicenceDocument =
        serde_json::from_str(doc).map_err(|e| format!("not a licence document: {e}"))?;
    if doc.format != DOCUMENT_FORMAT {
        return Err(format!("unknown format {:?}", doc.format));
    }
    let pem = trusted_pem.unwrap_or(&doc.public_key_pem);
    let key = yiwang_crypto::seal::SealPublicKey::from_pem(&doc.distid, pem)
        .map_err(|e| format!("the seal's key: {e}"))?;
    if trusted_pem.is_some() {
        let named = yiwang_crypto::seal::SealPublicKey::from_pem(&doc.distid, &doc.public_key_pem)
            .map_err(|e| format!("the document's key: {e}"))?;
        if named != key {
            return Err("the document names another key than the trusted one".into());
        }
    }
    let sig = Base64::decode_vec(&doc.signature).map_err(|_| "the signature is not Base64")?;
    yiwang_crypto::seal::FastVerifier::new(key)
        .verify(doc.data.as_bytes(), &sig)
        .map_err(|_| {
            "the signature does not verify: the document was altered or forged".to_owned()
        })?;
    let data: Value =
        serde_json::from_str(&doc.data).map_err(|e| format!("the signed data: {e}"))?;
    if LicenceId::parse(data["id"].as_str().unwrap_or_default()).is_err() {
        return Err("the signed data has no valid licence identifier".into());
    }
    Ok(data)
}
