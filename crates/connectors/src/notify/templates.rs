//! The built-in message templates: Chinese text with `{name}` placeholders.
//!
//! Rendering is all or nothing: an unknown template or a placeholder without a parameter is an
//! error, so no half-filled message (`您的验证码为{code}`) ever reaches a person. Extra
//! parameters are ignored. Parameter values lose control characters (a value cannot add lines).

use crate::ConnectorError;

/// One message template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// The key callers use, e.g. `otp_sign_in`.
    pub name: &'static str,
    /// The e-mail subject (no placeholders).
    pub subject: &'static str,
    /// The text, with `{name}` placeholders. SMS gets it behind the signature (【一网通办】),
    /// e-mail gets it as the plain-text body.
    pub body: &'static str,
}

/// The built-in templates.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "otp_register",
        subject: "一网通办注册验证码",
        body: "您正在注册一网通办账号，验证码为{code}，{minutes}分钟内有效。如非本人操作，请忽略本消息。",
    },
    Template {
        name: "otp_sign_in",
        subject: "一网通办登录验证码",
        body: "您正在登录一网通办，验证码为{code}，{minutes}分钟内有效。请勿将验证码告知他人；如非本人操作，请忽略本消息。",
    },
    Template {
        name: "otp_reset",
        subject: "一网通办重置密码验证码",
        body: "您正在重置一网通办账号密码，验证码为{code}，{minutes}分钟内有效。如非本人操作，请及时检查账号安全。",
    },
    Template {
        name: "otp_email",
        subject: "一网通办邮箱验证码",
        body: "您正在为一网通办账号绑定此邮箱，验证码为{code}，{minutes}分钟内有效。如非本人操作，请忽略本邮件。",
    },
    Template {
        name: "agent_authorised",
        subject: "经办人授权通知",
        body: "{agent_name}，您好：{enterprise_name}已授权您作为经办人办理政务服务事项，授权有效期至{valid_until}。如有疑问，请联系单位法定代表人或管理员。",
    },
    Template {
        name: "task_overdue",
        subject: "审批环节超时提醒",
        body: "{name}，您好：办件{case}的“{step}”环节已超过办理时限（{due}），请尽快办理。",
    },
    Template {
        name: "supervision_signal",
        subject: "电子监察信号",
        body: "{name}，您好：电子监察系统对办件{case}发出{signal}：{detail}。请及时处理，如有异议可在监察信号中申诉。",
    },
    Template {
        name: "rating_invitation",
        subject: "邀请您评价政务服务",
        body: "{name}，您好：您申请的“{item}”（办件编号{case}）已办结，欢迎对本次服务进行评价：{link} （{days}天内有效）。",
    },
    Template {
        name: "rating_rectification",
        subject: "差评整改通知",
        body: "{name}，您好：办件{case}（{item}）收到“{level}”评价，已生成整改单{number}，请于{due}前完成回访、整改或说明，并在“好差评”中答复。",
    },
    Template {
        name: "rating_outcome",
        subject: "您的评价已处理",
        body: "{name}，您好：您对“{item}”（办件编号{case}）的评价已由{org}处理（{action}）：{outcome} 您可登录一网通办在“我的办件”中对处理结果进行评价。",
    },
    Template {
        name: "case_progress",
        subject: "办件进度通知",
        body: "{name}，您好：您申请的“{item}”（办件编号{case}）{progress}。详情请登录一网通办查看“我的办件”。",
    },
    Template {
        name: "question_answered",
        subject: "您的提问已答复",
        body: "{name}，您好：您关于“{item}”的提问已由{org}答复，请登录一网通办在“我的提问”查看。",
    },
    Template {
        name: "question_overdue",
        subject: "群众提问逾期未答复提醒",
        body: "{name}，您好：群众关于“{item}”的提问已超过答复期限（{due}），请尽快在“群众提问”中答复。",
    },
    Template {
        name: "account_locked",
        subject: "账号锁定提醒",
        body: "您的一网通办账号因连续{attempts}次登录失败已被临时锁定，将于{unlock_at}自动解锁。如非本人操作，请解锁后及时修改密码。",
    },
];

/// The template called `name`.
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The template's name.
    pub template: &'static str,
    /// The e-mail subject.
    pub subject: &'static str,
    /// The text with every placeholder filled.
    pub body: String,
}

/// Fills the template `name` with `params`.
pub fn render(name: &str, params: &[(&str, &str)]) -> Result<Rendered, ConnectorError> {
    let template = template(name).ok_or_else(|| {
        ConnectorError::InvalidInput(format!("unknown message template '{name}'"))
    })?;
    let mut body = String::with_capacity(template.body.len() + 32);
    let mut rest = template.body;
    while let Some(open) = rest.find('{') {
        body.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            // A lone brace is text (no built-in template has one).
            body.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let key = &after[..close];
        let value = params
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                ConnectorError::InvalidInput(format!(
                    "message template '{name}' needs the parameter '{key}'"
                ))
            })?;
        body.extend(value.chars().filter(|c| !c.is_control()));
        rest = &after[close + 1..];
    }
    body.push_str(rest);
    Ok(Rendered {
        template: template.name,
        subject: template.subject,
        body,
    })
}

/// The placeholders of a template body, in order.
pub fn placeholders(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_placeholder() {
        let m = render("otp_sign_in", &[("code", "123456"), ("minutes", "5")]).unwrap();
        assert_eq!(m.subject, "一网通办登录验证码");
        assert!(m.body.contains("验证码为123456，5分钟内有效"));
        assert!(!m.body.contains('{'));
    }

    #[test]
    fn missing_parameter_and_unknown_template_are_errors() {
        let e = render("otp_register", &[("code", "123456")]).unwrap_err();
        assert!(e.to_string().contains("minutes"), "{e}");
        assert!(matches!(e, ConnectorError::InvalidInput(_)));
        assert!(matches!(
            render("no_such", &[]),
            Err(ConnectorError::InvalidInput(_))
        ));
    }

    #[test]
    fn values_are_not_expanded_again_and_lose_control_characters() {
        let m = render(
            "otp_reset",
            &[("code", "{minutes}\r\n1"), ("minutes", "10")],
        )
        .unwrap();
        assert!(m.body.contains("验证码为{minutes}1，10分钟"));
    }

    #[test]
    fn every_template_renders_with_its_own_placeholders() {
        for t in TEMPLATES {
            let names = placeholders(t.body);
            assert!(!names.is_empty(), "{}", t.name);
            let params: Vec<(&str, &str)> = names.iter().map(|n| (*n, "X")).collect();
            let m = render(t.name, &params).unwrap();
            assert!(!m.body.contains('{') && !m.body.contains('}'), "{}", t.name);
        }
        for required in [
            "otp_register",
            "otp_sign_in",
            "otp_reset",
            "agent_authorised",
            "account_locked",
        ] {
            assert!(template(required).is_some(), "{required}");
        }
    }
}
