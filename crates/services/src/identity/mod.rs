//! 统一身份认证 (unified identity): who is acting, and how they proved it.
//!
//! - [`authz`]: the one module that decides who may do what (the rules in one table).
//! - [`staff`]: staff accounts; each holds roles in one or more organisations and acts in one
//!   of them per session; Argon2id passwords, lockout, sessions, TOTP for administrators.
//! - [`staff_admin`]: 人员管理 — accounts, role grants within the administrator's scope, disabling,
//!   password resets, Excel export and whole-or-nothing import.
//! - [`passwords`]: the hashing parameters and the password policy shared by every account.
//! - [`throttle`]: failure counters with back-off per account and per client address.
//! - [`audit`]: the append-only audit log, hash-chained with SM3, and its verification.
//! - [`totp`]: the staff's second factor (RFC 6238).
//! - [`users`]: citizen accounts, real-name levels L1–L3, sign-in by password or SMS code.
//! - [`otp`]: one-time codes by SMS, with sending limits.
//! - [`enterprises`]: enterprise accounts bound through the legal-person library, agents with
//!   a scope and an expiry.
//! - [`oidc`]: the platform as an OpenID Connect provider for departments' own systems.
//!
//! Secrets (the personal-data key ring, the token key) come from configuration through
//! [`Keys`]; nothing secret is compiled in.

pub mod audit;
pub mod authz;
pub mod enterprises;
pub mod oidc;
pub mod otp;
pub mod passwords;
pub mod staff;
pub mod staff_admin;
pub mod throttle;
pub mod totp;
pub mod users;

use yiwang_connectors::legal_person::LegalPersonLibrary;
use yiwang_connectors::notify::Notifier;
use yiwang_connectors::population::PopulationLibrary;
use yiwang_crypto::pii::KeyRing;
use yiwang_crypto::token::TokenKey;

/// The outside systems identity talks to, chosen by configuration.
pub struct Outside {
    /// 人口库.
    pub population: PopulationLibrary,
    /// 法人库.
    pub legal: LegalPersonLibrary,
    /// SMS and e-mail.
    pub notifier: Notifier,
    /// Where the development notifier writes messages, when it is the one in use.
    pub dev_outbox: Option<std::path::PathBuf>,
    /// Where files (materials, notices, decisions) are kept.
    pub files: yiwang_connectors::ObjectStore,
}

impl Outside {
    /// The built-in demo libraries (fixed demo people and enterprises plus `residents` and
    /// `enterprises` generated ones) and the given notifier; files in a fresh temporary
    /// directory until [`Outside::with_files`].
    pub fn built_in(
        residents: usize,
        enterprises: usize,
        notifier: &yiwang_connectors::NotifierConfig,
        dev_outbox: Option<std::path::PathBuf>,
    ) -> Result<Outside, crate::ServiceError> {
        let library = std::sync::Arc::new(crate::demo::demo_library(residents, enterprises)?);
        Ok(Outside {
            population: PopulationLibrary::BuiltIn(library.clone()),
            legal: LegalPersonLibrary::BuiltIn(library),
            notifier: Notifier::new(notifier)
                .map_err(|e| crate::ServiceError::internal(format!("notifier: {e}")))?,
            dev_outbox,
            files: yiwang_connectors::ObjectStore::local(
                std::env::temp_dir()
                    .join(format!("yiwang-files-{}", uuid::Uuid::new_v4().simple())),
            ),
        })
    }

    /// The same outside systems keeping files in `files` (the server sets its data directory's
    /// `files/`; without this, files go to a fresh temporary directory).
    pub fn with_files(mut self, files: yiwang_connectors::ObjectStore) -> Outside {
        self.files = files;
        self
    }

    /// For tests: the built-in libraries with a few generated records, messages written to a
    /// fresh file under the temporary directory ([`Outside::dev_outbox`]).
    pub fn for_tests() -> Result<Outside, crate::ServiceError> {
        let path = std::env::temp_dir().join(format!(
            "yiwang-messages-{}.jsonl",
            uuid::Uuid::new_v4().simple()
        ));
        Outside::built_in(
            200,
            50,
            &yiwang_connectors::NotifierConfig::dev_file(&path),
            Some(path),
        )
    }

    /// The newest message sent to `to` through the development notifier, if any (tests and
    /// developers read their codes there).
    pub fn last_dev_message(&self, to: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.dev_outbox.as_ref()?).ok()?;
        text.lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|m| m["to"] == to)
            .and_then(|m| m["text"].as_str().map(str::to_owned))
    }
}

impl std::fmt::Debug for Outside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outside { .. }")
    }
}

/// The SM3 digest of `s` in lower-case hex: how session tokens, codes and refresh tokens are
/// stored (never the values themselves).
pub(crate) fn sm3_hex(s: &str) -> String {
    use sm3::Digest;
    sm3::Sm3::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The keys of the identity system, from configuration.
pub struct Keys {
    /// Encrypts personal data at rest and computes blind indexes (SM4, keyed SM3).
    pub pii: KeyRing,
    /// Signs and verifies the OIDC access tokens (HMAC-SM3): derived from the current
    /// personal-data secret under its own HKDF label (`token/hmac-sm3`), so no further secret
    /// is configured and rotating the ring also rotates it (access tokens live 10 minutes).
    pub token: TokenKey,
    /// Seals the private keys of electronic seals (SM4-GCM): the ring of `YIWANG_SEAL_KEYS`
    /// when configured ([`Keys::with_seal_spec`]), else the personal-data ring.
    pub seal: KeyRing,
}

impl Keys {
    /// Keys from a key-ring specification (`"k2:<64 hex>,k1:<64 hex>"`, newest first).
    pub fn from_spec(spec: &str) -> Result<Keys, crate::ServiceError> {
        let pii = KeyRing::parse(spec)
            .map_err(|e| crate::ServiceError::internal(format!("key ring: {e}")))?;
        // The ring parsed, so its first item is `id:<64 hex>`.
        let current_secret = spec
            .split(',')
            .next()
            .and_then(|item| item.split_once(':'))
            .map(|(_, secret)| secret.trim())
            .unwrap_or_default();
        let token = TokenKey::from_hex(current_secret)
            .map_err(|e| crate::ServiceError::internal(format!("token key: {e}")))?;
        let seal = pii.clone();
        Ok(Keys { pii, token, seal })
    }

    /// The same keys with the seal keys' own ring (`"s1:<64 hex>"`, newest first).
    pub fn with_seal_spec(mut self, spec: &str) -> Result<Keys, crate::ServiceError> {
        self.seal = KeyRing::parse(spec)
            .map_err(|e| crate::ServiceError::internal(format!("seal key ring: {e}")))?;
        Ok(self)
    }

    /// Fresh random keys that live only in this process: for tests and throwaway databases,
    /// never for data that must be read again after a restart.
    pub fn ephemeral() -> Result<Keys, crate::ServiceError> {
        Keys::from_spec(&format!("t1:{}", KeyRing::generate_secret_hex()))
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("pii", &self.pii.current_id())
            .finish()
    }
}

/// Re-encrypts every personal-data field not yet under the current key and recomputes its
/// blind indexes, one account per transaction (so a rotation can be interrupted and resumed).
/// Returns the number of rows rewritten.
pub async fn rotate_keys(p: &crate::Platform) -> Result<u64, crate::ServiceError> {
    use yiwang_store::Row;
    let pii = &p.keys.pii;
    let current = pii.current_id().to_owned();
    let fail =
        |e: yiwang_crypto::CryptoError| crate::ServiceError::internal(format!("rotate: {e}"));
    let mut done = 0u64;
    let users =
        sqlx::query("SELECT id, id_number_enc, phone_enc, email_enc FROM users WHERE key_id <> $1")
            .bind(&current)
            .fetch_all(p.db.pool())
            .await?;
    for r in users {
        let id: String = r.try_get("id")?;
        let id_number = pii
            .decrypt("id_number", &r.try_get::<String, _>("id_number_enc")?)
            .map_err(fail)?;
        let phone = pii
            .decrypt("phone", &r.try_get::<String, _>("phone_enc")?)
            .map_err(fail)?;
        let email = r
            .try_get::<Option<String>, _>("email_enc")?
            .map(|e| pii.rewrap("email", &e).map(|new| new.unwrap_or(e)))
            .transpose()
            .map_err(fail)?;
        let mut tx = p.db.begin().await?;
        sqlx::query(
            "UPDATE users SET id_number_enc = $1, id_number_bidx = $2, phone_enc = $3, \
             phone_bidx = $4, key_id = $5, email_enc = $7 WHERE id = $6",
        )
        .bind(pii.encrypt("id_number", &id_number).map_err(fail)?)
        .bind(pii.blind_index("id_number", &id_number))
        .bind(pii.encrypt("phone", &phone).map_err(fail)?)
        .bind(pii.blind_index("phone", &phone))
        .bind(&current)
        .bind(&id)
        .bind(email)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        done += 1;
    }
    let staff =
        sqlx::query("SELECT id, totp_secret_enc FROM staff WHERE totp_secret_enc IS NOT NULL")
            .fetch_all(p.db.pool())
            .await?;
    for r in staff {
        let sealed: String = r.try_get("totp_secret_enc")?;
        if let Some(new) = pii.rewrap("staff.totp_secret", &sealed).map_err(fail)? {
            sqlx::query("UPDATE staff SET totp_secret_enc = $1 WHERE id = $2")
                .bind(new)
                .bind(r.try_get::<String, _>("id")?)
                .execute(p.db.writer())
                .await?;
            done += 1;
        }
    }
    done += crate::cases::rotate_keys(p).await?;
    done += crate::questions::rotate_keys(p).await?;
    Ok(done)
}

/// Where an account kind keeps its accounts and sessions, for the use-cases both kinds share.
pub(crate) struct AccountKind {
    /// Audit prefix and action prefix: `user` or `staff`.
    pub kind: &'static str,
    /// The accounts table.
    pub accounts: &'static str,
    /// The sessions table.
    pub sessions: &'static str,
    /// The sessions table's column naming the account.
    pub owner: &'static str,
}

/// Citizens.
pub(crate) const USERS: AccountKind = AccountKind {
    kind: "user",
    accounts: "users",
    sessions: "user_sessions",
    owner: "user_id",
};

/// Staff.
pub(crate) const STAFF: AccountKind = AccountKind {
    kind: "staff",
    accounts: "staff",
    sessions: "sessions",
    owner: "staff_id",
};

/// Changes a signed-in account's own password: the current one must be given, the new one
/// must pass the policy (and not contain `identifiers`); the account's other sessions end. One
/// transaction with its audit entry (`<kind>.password_change`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn change_own_password(
    p: &crate::Platform,
    k: &AccountKind,
    account_id: &str,
    session_hash: &str,
    old: &str,
    new: &str,
    identifiers: &[&str],
    ip: &str,
) -> Result<(), crate::ServiceError> {
    use yiwang_store::Row;
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT password_hash FROM {} WHERE id = $1",
        k.accounts
    )))
    .bind(account_id)
    .fetch_one(p.db.pool())
    .await?;
    if !passwords::verify(old, &r.try_get::<String, _>("password_hash")?) {
        return Err(crate::ServiceError::invalid(
            "old_password",
            "原密码不正确",
            "the current password is wrong",
        ));
    }
    passwords::check_policy("new_password", new, identifiers)?;
    let now = p.now();
    let mut tx = p.db.begin().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
        k.accounts
    )))
    .bind(passwords::hash(new)?)
    .bind(yiwang_store::fmt_time(now))
    .bind(account_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {} WHERE {} = $1 AND id_hash <> $2",
        k.sessions, k.owner
    )))
    .bind(account_id)
    .bind(session_hash)
    .execute(&mut *tx)
    .await?;
    let who = format!("{}:{account_id}", k.kind);
    audit::append(
        &mut tx,
        now,
        &audit::Entry {
            actor: &who,
            action: &format!("{}.password_change", k.kind),
            target: &who,
            outcome: audit::Outcome::Success,
            ip,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
