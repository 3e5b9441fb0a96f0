//! Mail: where it goes (`KANTLIJN_SMTP_URL`, `KANTLIJN_MAIL_FROM`), how a queued mail
//! becomes a message (Dutch plain text plus HTML, one-click unsubscribe headers), and
//! the worker that sends the outbox ([`worker`]). Mail is queued in the `outbox` table
//! in the same transaction as the event that causes it (`store::outbox::queue`); nothing
//! here is sent from a request.

pub mod links;
pub mod messages;
pub mod worker;

use std::{fmt, time::Duration};

use lettre::{
    AsyncSmtpTransport, Tokio1Executor,
    message::{
        Mailbox, Message, MultiPart,
        header::{HeaderName, HeaderValue},
    },
    transport::smtp::authentication::Credentials,
};

use crate::entity::outbox;

/// How mail leaves the site, checked at start-up.
#[derive(Clone)]
pub struct MailSettings {
    smtp: SmtpServer,
    pub from: Mailbox,
    /// The wait before the first retry of a failed send; it doubles with every attempt
    /// up to [`MailSettings::retry_cap`].
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// How often the worker looks for due mail when nothing wakes it.
    pub poll: Duration,
}

#[derive(Clone, PartialEq, Eq)]
struct SmtpServer {
    host: String,
    port: u16,
    tls: Security,
    credentials: Option<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Security {
    /// `smtp://`: STARTTLS, required.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Wrapper,
    /// `smtp://…?tls=none`: plain, for a relay on the same machine.
    None,
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("host", &self.smtp.host)
            .field("port", &self.smtp.port)
            .field("tls", &self.smtp.tls)
            .field(
                "user",
                &self.smtp.credentials.as_ref().map(|(user, _)| user),
            )
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl MailSettings {
    /// Reads `smtp://user:pass@host:587` (STARTTLS), `smtps://user:pass@host:465` (TLS)
    /// or `smtp://host:25?tls=none` (a local relay), and the sender (`Naam <adres>` or
    /// an address).
    pub fn parse(smtp_url: &str, from: &str) -> anyhow::Result<Self> {
        let url = url::Url::parse(smtp_url).map_err(|_| {
            anyhow::anyhow!("not a URL; write smtp://user:password@host:587, smtps://… or smtp://host:25?tls=none")
        })?;
        let mut tls = match url.scheme() {
            "smtp" => Security::StartTls,
            "smtps" => Security::Wrapper,
            other => anyhow::bail!("the scheme must be smtp or smtps, not {other:?}"),
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "none") if tls == Security::StartTls => tls = Security::None,
                ("tls", "required") if tls == Security::StartTls => {}
                _ => anyhow::bail!(
                    "unknown option {key}={value}; only smtp://…?tls=none (a local relay) is known"
                ),
            }
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| anyhow::anyhow!("the URL names no host"))?
            .trim_matches(['[', ']'])
            .to_owned();
        let port = url.port().unwrap_or(match tls {
            Security::Wrapper => 465,
            Security::StartTls => 587,
            Security::None => 25,
        });
        let decode = |part: &str| {
            percent_decode(part).ok_or_else(|| {
                anyhow::anyhow!("the user or password is not valid percent-encoded UTF-8")
            })
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, password) => Some((decode(user)?, decode(password.unwrap_or(""))?)),
        };
        let from: Mailbox = from.trim().parse().map_err(|e| {
            anyhow::anyhow!("KANTLIJN_MAIL_FROM {from:?} is not an address like \"Kantlijn <reacties@example.nl>\": {e}")
        })?;
        Ok(Self {
            smtp: SmtpServer {
                host,
                port,
                tls,
                credentials,
            },
            from,
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            poll: Duration::from_secs(30),
        })
    }

    /// The SMTP client (a small pool of connections, opened when first needed).
    pub fn transport(&self) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
        let server = &self.smtp;
        let mut builder = match server.tls {
            Security::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&server.host)?
            }
            Security::Wrapper => AsyncSmtpTransport::<Tokio1Executor>::relay(&server.host)?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host),
        }
        .port(server.port)
        .timeout(Some(Duration::from_secs(30)));
        if let Some((user, password)) = &server.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }

    /// The wait before attempt `attempts + 1` of a mail that failed `attempts` times.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        self.retry_base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.retry_cap)
    }
}

fn percent_decode(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");

/// The message a queued mail is sent as: plain text and HTML, with its fixed Message-ID
/// and, when it has one, the one-click unsubscribe of RFC 8058.
pub fn message(from: &Mailbox, mail: &outbox::Model) -> anyhow::Result<Message> {
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|e| anyhow::anyhow!("the recipient is not an address: {e}"))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()));
    if let Some(url) = &mail.unsubscribe {
        builder = builder
            .raw_header(HeaderValue::new(LIST_UNSUBSCRIBE, format!("<{url}>")))
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE_POST,
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    Ok(builder.multipart(MultiPart::alternative_plain_html(
        mail.body_text.clone(),
        mail.body_html.clone(),
    ))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_parse_as_documented() {
        let from = "Kantlijn <reacties@example.nl>";
        let plain = MailSettings::parse("smtp://127.0.0.1:2525?tls=none", from).unwrap();
        assert_eq!(plain.smtp.tls, Security::None);
        assert_eq!(
            (plain.smtp.host.as_str(), plain.smtp.port),
            ("127.0.0.1", 2525)
        );
        assert_eq!(plain.smtp.credentials, None);
        let starttls = MailSettings::parse("smtp://anna:ge%20heim@mail.example.nl", from).unwrap();
        assert_eq!(starttls.smtp.tls, Security::StartTls);
        assert_eq!(starttls.smtp.port, 587);
        assert_eq!(
            starttls.smtp.credentials,
            Some(("anna".to_owned(), "ge heim".to_owned()))
        );
        assert!(
            !format!("{starttls:?}").contains("heim"),
            "the password stays out of logs"
        );
        let tls = MailSettings::parse("smtps://mail.example.nl", from).unwrap();
        assert_eq!((tls.smtp.tls, tls.smtp.port), (Security::Wrapper, 465));
        for bad in [
            "http://mail.example.nl",
            "smtps://mail.example.nl?tls=none",
            "smtp://mail.example.nl?tls=maybe",
            "smtp://",
            "mail.example.nl:25",
        ] {
            assert!(MailSettings::parse(bad, from).is_err(), "{bad}");
        }
        assert!(MailSettings::parse("smtp://h:25?tls=none", "geen adres").is_err());
    }

    #[test]
    fn retries_back_off_to_a_cap() {
        let settings = MailSettings::parse("smtp://h:25?tls=none", "a@example.nl").unwrap();
        assert_eq!(settings.backoff(1), Duration::from_secs(30));
        assert_eq!(settings.backoff(2), Duration::from_secs(60));
        assert_eq!(settings.backoff(4), Duration::from_secs(240));
        assert_eq!(settings.backoff(50), Duration::from_secs(3600));
    }
}
