#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The notification providers against real endpoints: a file, an axum SMS gateway and a
//! minimal SMTP sink, all on this machine.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use yiwang_connectors::notify::{HttpSmsConfig, SmtpConfig, TlsMode};
use yiwang_connectors::{
    Channel, ConnectorError, Notifier, NotifierConfig, ProviderConfig, Recipient,
};

const OTP: [(&str, &str); 2] = [("code", "428613"), ("minutes", "5")];

#[tokio::test]
async fn dev_file_appends_one_json_line_per_message() {
    let dir = std::env::temp_dir().join(format!("yiwang-notify-{}", std::process::id()));
    let path = dir.join("sub").join("messages.jsonl");
    let _ = std::fs::remove_dir_all(&dir);
    let notifier = Notifier::new(&NotifierConfig::dev_file(&path)).unwrap();
    notifier
        .send(Channel::Sms, "+86 138 1234 5678", "otp_register", &OTP)
        .await
        .unwrap();
    let recipient = Recipient {
        phone: None,
        email: Some("wangxm@example.cn".into()),
    };
    notifier
        .send_to(
            &recipient,
            Channel::Email,
            "agent_authorised",
            &[
                ("agent_name", "刘芳"),
                ("enterprise_name", "湖南湘江智能科技有限公司"),
                ("valid_until", "2026年12月31日"),
            ],
        )
        .await
        .unwrap();
    // A failed render writes nothing.
    assert!(
        notifier
            .send(Channel::Sms, "13812345678", "otp_register", &OTP[..1])
            .await
            .is_err()
    );

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["channel"], "sms");
    assert_eq!(lines[0]["to"], "13812345678");
    assert_eq!(lines[0]["template"], "otp_register");
    let sms = lines[0]["text"].as_str().unwrap();
    assert!(sms.starts_with("【一网通办】"), "{sms}");
    assert!(sms.contains("验证码为428613，5分钟内有效"), "{sms}");
    assert!(lines[0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[1]["channel"], "email");
    assert_eq!(lines[1]["subject"], "经办人授权通知");
    assert!(
        lines[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("刘芳，您好：湖南湘江智能科技有限公司已授权您")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One request the gateway received: its `Authorization` header and JSON body.
type Received = (Option<String>, serde_json::Value);

#[derive(Clone, Default)]
struct Gateway {
    received: Arc<Mutex<Vec<Received>>>,
}

async fn gateway(
    State(g): State<Gateway>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> StatusCode {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let status = if body["phone"] == "13900000000" {
        StatusCode::BAD_REQUEST
    } else if body["phone"] == "13900000001" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    g.received.lock().unwrap().push((auth, body));
    status
}

fn sms_notifier(url: String) -> Notifier {
    Notifier::new(&NotifierConfig {
        sms: Some(ProviderConfig::HttpSms(HttpSmsConfig {
            url,
            token: Some(yiwang_connectors::notify::Secret::new("sms-token")),
            sign_name: "一网通办".into(),
            timeout_secs: 2,
        })),
        email: None,
    })
    .unwrap()
}

#[tokio::test]
async fn http_sms_posts_phone_text_and_sign_with_the_token() {
    let state = Gateway::default();
    let app = Router::new()
        .route("/sms/send", post(gateway))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let notifier = sms_notifier(format!("http://{addr}/sms/send"));
    notifier
        .send(Channel::Sms, "13812345678", "otp_sign_in", &OTP)
        .await
        .unwrap();
    {
        let received = state.received.lock().unwrap();
        assert_eq!(received.len(), 1);
        let (auth, body) = &received[0];
        assert_eq!(auth.as_deref(), Some("Bearer sms-token"));
        assert_eq!(body["phone"], "13812345678");
        assert_eq!(body["sign"], "一网通办");
        let text = body["text"].as_str().unwrap();
        assert!(text.contains("验证码为428613"), "{text}");
        assert!(
            !text.contains("【"),
            "the gateway adds the signature: {text}"
        );
    }
    assert!(matches!(
        notifier
            .send(Channel::Sms, "13900000000", "otp_sign_in", &OTP)
            .await,
        Err(ConnectorError::Rejected { .. })
    ));
    assert!(matches!(
        notifier
            .send(Channel::Sms, "13900000001", "otp_sign_in", &OTP)
            .await,
        Err(ConnectorError::Unavailable { .. })
    ));
    // Not an e-mail channel.
    assert!(matches!(
        notifier
            .send(Channel::Email, "a@example.cn", "otp_sign_in", &OTP)
            .await,
        Err(ConnectorError::NotConfigured(_))
    ));
    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sms/send", closed.local_addr().unwrap());
    drop(closed);
    assert!(matches!(
        sms_notifier(url)
            .send(Channel::Sms, "13812345678", "otp_sign_in", &OTP)
            .await,
        Err(ConnectorError::Unavailable { .. })
    ));
}

/// What the SMTP sink received.
#[derive(Debug, Default)]
struct Mail {
    from: String,
    rcpt: Vec<String>,
    data: String,
}

/// A minimal SMTP server without TLS: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. A
/// recipient at `refused.example` gets a permanent 550.
async fn smtp_sink() -> (String, u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut mail = Mail::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("HELO")
                        || upper.starts_with("NOOP")
                        || upper.starts_with("RSET")
                    {
                        b"250 OK\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.from = line[10..].trim().to_string();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        let rcpt = line[8..].trim().to_string();
                        if rcpt.contains("refused.example") {
                            b"550 no such user\r\n"
                        } else {
                            mail.rcpt.push(rcpt);
                            b"250 OK\r\n"
                        }
                    } else if upper == "DATA" {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(l.strip_prefix('.').unwrap_or(&l));
                            data.push('\n');
                        }
                        mail.data = data;
                        store.lock().unwrap().push(std::mem::take(&mut mail));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"502 not implemented\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    ("127.0.0.1".into(), addr.port(), mails)
}

fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for b in s.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == b) else {
            continue;
        };
        buffer = (buffer << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

fn quoted_printable_decode(s: &str) -> Vec<u8> {
    let joined = s.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The decoded text body of a single-part message.
fn body_text(data: &str) -> String {
    let (headers, body) = data.split_once("\n\n").unwrap();
    let encoding = headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-transfer-encoding:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    let bytes = match encoding.as_str() {
        "base64" => base64_decode(body),
        "quoted-printable" => quoted_printable_decode(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).unwrap()
}

fn smtp_notifier(host: String, port: u16) -> Notifier {
    Notifier::new(&NotifierConfig {
        sms: None,
        email: Some(ProviderConfig::Smtp(SmtpConfig {
            host,
            port: Some(port),
            username: None,
            password: None,
            from: "一网通办 <noreply@yiwang.example>".into(),
            tls: TlsMode::None,
            timeout_secs: 5,
        })),
    })
    .unwrap()
}

#[tokio::test]
async fn smtp_delivers_a_utf8_chinese_message() {
    let (host, port, mails) = smtp_sink().await;
    let notifier = smtp_notifier(host, port);
    notifier
        .send(
            Channel::Email,
            "wangxm@example.cn",
            "account_locked",
            &[("attempts", "5"), ("unlock_at", "2025年6月1日 10:30")],
        )
        .await
        .unwrap();
    let mail = mails.lock().unwrap().pop().unwrap();
    assert_eq!(mail.from, "<noreply@yiwang.example>");
    assert_eq!(mail.rcpt, vec!["<wangxm@example.cn>".to_string()]);
    assert!(
        mail.data
            .to_ascii_lowercase()
            .contains("content-type: text/plain; charset=utf-8"),
        "{}",
        mail.data
    );
    let text = body_text(&mail.data);
    assert!(
        text.contains(
            "您的一网通办账号因连续5次登录失败已被临时锁定，将于2025年6月1日 10:30自动解锁"
        ),
        "{text}"
    );
    assert!(mail.data.contains("Subject: "), "{}", mail.data);

    // A permanent refusal of the recipient is Rejected, not Unavailable.
    let e = notifier
        .send(Channel::Email, "nobody@refused.example", "otp_reset", &OTP)
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectorError::Rejected { .. }), "{e}");
    // A malformed address never reaches the server.
    assert!(matches!(
        notifier
            .send(Channel::Email, "not-an-address", "otp_reset", &OTP)
            .await,
        Err(ConnectorError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn smtp_server_down_is_unavailable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e = smtp_notifier("127.0.0.1".into(), port)
        .send(Channel::Email, "wangxm@example.cn", "otp_sign_in", &OTP)
        .await
        .unwrap_err();
    assert!(matches!(e, ConnectorError::Unavailable { .. }), "{e}");
}
