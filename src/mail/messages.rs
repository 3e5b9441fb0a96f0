//! What the site mails, in Dutch: each kind as plain text and as HTML from the askama
//! templates in `templates/mail/`, ready to queue (`store::outbox::queue`).

use askama::Template;

use crate::store::outbox::NewMail;

/// Kinds, as the outbox stores them.
pub const CONFIRM: &str = "confirm";
pub const REPLY: &str = "reply";
pub const PRIVACY: &str = "privacy";
pub const DIGEST: &str = "digest";

/// The most characters of a reaction a mail quotes.
const EXCERPT_CHARS: usize = 600;

/// A reaction's text as a mail quotes it: its Markdown source, cut at a word.
pub fn excerpt(body_md: &str) -> String {
    let body = body_md.trim();
    if body.chars().count() <= EXCERPT_CHARS {
        return body.to_owned();
    }
    let cut: String = body.chars().take(EXCERPT_CHARS).collect();
    let cut = cut
        .rsplit_once(char::is_whitespace)
        .map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end())
}

fn render(text: &impl Template, html: &impl Template) -> (String, String) {
    // askama renders into a String; with only Display fields it cannot fail, and a
    // failure would still leave a mail that says something.
    let text = text
        .render()
        .unwrap_or_else(|e| format!("(tekst niet beschikbaar: {e})"));
    let html = html.render().unwrap_or_default();
    (text, html)
}

// Text mails keep their whitespace: their blank lines are paragraphs (the pages' HTML
// templates have theirs cut, see askama.toml).
#[derive(Template)]
#[template(path = "mail/confirm.txt", whitespace = "preserve")]
struct ConfirmText<'a> {
    name: &'a str,
    article: &'a str,
    confirm_url: &'a str,
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/confirm.html")]
struct ConfirmHtml<'a> {
    subject: &'a str,
    name: &'a str,
    article: &'a str,
    confirm_url: &'a str,
    unsubscribe_url: &'a str,
}

/// The double opt-in: asks the address to confirm it wants reply notifications.
pub fn confirm(
    to: &str,
    name: &str,
    article: &str,
    confirm_url: &str,
    unsubscribe_url: &str,
) -> NewMail {
    let subject = "Bevestig: wil je mail bij reacties op Kantlijn?".to_owned();
    let (text, html) = render(
        &ConfirmText {
            name,
            article,
            confirm_url,
            unsubscribe_url,
        },
        &ConfirmHtml {
            subject: &subject,
            name,
            article,
            confirm_url,
            unsubscribe_url,
        },
    );
    NewMail {
        kind: CONFIRM,
        to: to.to_owned(),
        subject,
        text,
        html,
        unsubscribe: Some(unsubscribe_url.to_owned()),
        comment_id: None,
    }
}

#[derive(Template)]
#[template(path = "mail/reply.txt", whitespace = "preserve")]
struct ReplyText<'a> {
    name: &'a str,
    replier: &'a str,
    article: &'a str,
    excerpt: &'a str,
    reply_url: &'a str,
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/reply.html")]
struct ReplyHtml<'a> {
    subject: &'a str,
    name: &'a str,
    replier: &'a str,
    article: &'a str,
    excerpt: &'a str,
    reply_url: &'a str,
    unsubscribe_url: &'a str,
}

/// What a reader hears when a reply to their reaction is approved.
pub struct Reply<'a> {
    pub to: &'a str,
    /// The name the reader posted under.
    pub name: &'a str,
    pub replier: &'a str,
    pub article: &'a str,
    pub body_md: &'a str,
    pub reply_url: &'a str,
    pub unsubscribe_url: &'a str,
    /// The reply.
    pub comment_id: i32,
}

pub fn reply(reply: &Reply<'_>) -> NewMail {
    let subject = format!(
        "{} reageerde op je reactie bij \u{201c}{}\u{201d}",
        reply.replier, reply.article
    );
    let excerpt = excerpt(reply.body_md);
    let (text, html) = render(
        &ReplyText {
            name: reply.name,
            replier: reply.replier,
            article: reply.article,
            excerpt: &excerpt,
            reply_url: reply.reply_url,
            unsubscribe_url: reply.unsubscribe_url,
        },
        &ReplyHtml {
            subject: &subject,
            name: reply.name,
            replier: reply.replier,
            article: reply.article,
            excerpt: &excerpt,
            reply_url: reply.reply_url,
            unsubscribe_url: reply.unsubscribe_url,
        },
    );
    NewMail {
        kind: REPLY,
        to: reply.to.to_owned(),
        subject,
        text,
        html,
        unsubscribe: Some(reply.unsubscribe_url.to_owned()),
        comment_id: Some(reply.comment_id),
    }
}

#[derive(Template)]
#[template(path = "mail/privacy.txt", whitespace = "preserve")]
struct PrivacyText<'a> {
    site: &'a str,
    link: Option<&'a str>,
    valid_hours: i64,
    expires: &'a str,
}

#[derive(Template)]
#[template(path = "mail/privacy.html")]
struct PrivacyHtml<'a> {
    subject: &'a str,
    site: &'a str,
    link: Option<&'a str>,
    valid_hours: i64,
    expires: &'a str,
}

/// The answer to a privacy request: the signed link when something is kept about the
/// address (`link`), else word that nothing is.
pub fn privacy(
    to: &str,
    site: &str,
    link: Option<&str>,
    valid_hours: i64,
    expires: &str,
) -> NewMail {
    let subject = "Je gegevens bij Kantlijn".to_owned();
    let (text, html) = render(
        &PrivacyText {
            site,
            link,
            valid_hours,
            expires,
        },
        &PrivacyHtml {
            subject: &subject,
            site,
            link,
            valid_hours,
            expires,
        },
    );
    NewMail {
        kind: PRIVACY,
        to: to.to_owned(),
        subject,
        text,
        html,
        unsubscribe: None,
        comment_id: None,
    }
}

/// One waiting reaction in a digest.
pub struct DigestItem {
    pub author: String,
    pub article: String,
    pub when: String,
    pub excerpt: String,
}

#[derive(Template)]
#[template(path = "mail/digest.txt", whitespace = "preserve")]
struct DigestText<'a> {
    name: &'a str,
    total: usize,
    new: usize,
    items: &'a [DigestItem],
    queue_url: &'a str,
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/digest.html")]
struct DigestHtml<'a> {
    subject: &'a str,
    name: &'a str,
    total: usize,
    new: usize,
    items: &'a [DigestItem],
    queue_url: &'a str,
    unsubscribe_url: &'a str,
}

/// The moderators' digest of what waits.
pub struct Digest<'a> {
    pub to: &'a str,
    pub name: &'a str,
    pub total: usize,
    /// Pending since the previous digest.
    pub new: usize,
    pub items: &'a [DigestItem],
    pub queue_url: &'a str,
    pub unsubscribe_url: &'a str,
}

pub fn digest(digest: &Digest<'_>) -> NewMail {
    let subject = if digest.total == 1 {
        "1 reactie wacht op moderatie".to_owned()
    } else {
        format!("{} reacties wachten op moderatie", digest.total)
    };
    let (text, html) = render(
        &DigestText {
            name: digest.name,
            total: digest.total,
            new: digest.new,
            items: digest.items,
            queue_url: digest.queue_url,
            unsubscribe_url: digest.unsubscribe_url,
        },
        &DigestHtml {
            subject: &subject,
            name: digest.name,
            total: digest.total,
            new: digest.new,
            items: digest.items,
            queue_url: digest.queue_url,
            unsubscribe_url: digest.unsubscribe_url,
        },
    );
    NewMail {
        kind: DIGEST,
        to: digest.to.to_owned(),
        subject,
        text,
        html,
        unsubscribe: Some(digest.unsubscribe_url.to_owned()),
        comment_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_escape_html_but_not_text() {
        let mail = reply(&Reply {
            to: "a@example.nl",
            name: "Anna",
            replier: "<b>Bram</b>",
            article: "Register & portfolio",
            body_md: "Eens, <script>x</script>",
            reply_url: "http://x/artikelen/a?reactie=2#reactie-2",
            unsubscribe_url: "http://x/afmelden/t",
            comment_id: 2,
        });
        assert!(mail.text.contains("<b>Bram</b> reageerde"));
        assert!(mail.text.contains("Register & portfolio"));
        assert!(mail.html.contains("&#60;b&#62;Bram"), "{}", mail.html);
        assert!(!mail.html.contains("<script>"));
        assert_eq!(mail.unsubscribe.as_deref(), Some("http://x/afmelden/t"));
    }

    /// The site's pages cut their templates' whitespace (`askama.toml`); a text mail's
    /// blank lines are its paragraphs and stay.
    #[test]
    fn text_mails_keep_their_blank_lines() {
        let mail = reply(&Reply {
            to: "a@example.nl",
            name: "Anna",
            replier: "Bram",
            article: "Het Lerarenportfolio",
            body_md: "Eens.",
            reply_url: "http://x/artikelen/a?reactie=2#reactie-2",
            unsubscribe_url: "http://x/afmelden/t",
            comment_id: 2,
        });
        assert!(
            mail.text.starts_with("Hallo Anna,\n\nBram reageerde"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("\n\nEens.\n\nLees en antwoord"),
            "{}",
            mail.text
        );
    }

    #[test]
    fn a_long_reaction_is_cut_at_a_word() {
        let long = "woord ".repeat(200);
        let cut = excerpt(&long);
        assert!(cut.ends_with("woord…"), "{cut}");
        assert!(cut.chars().count() <= EXCERPT_CHARS + 1);
        assert_eq!(excerpt("  kort  "), "kort");
    }
}
