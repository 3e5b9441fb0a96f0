//! `kantlijn import wordpress`: a WordPress export (WXR 1.0 to 1.2, with the `http://`
//! or `https://wordpress.org/export/1.x/` namespace), read as a stream one `<item>` at a
//! time. Posts (and with `--pages` pages) become articles, their comments reactions;
//! pingbacks and trackbacks, attachments and menu items are counted and left out.

use chrono::{DateTime, NaiveDateTime, Utc};
use quick_xml::{
    NsReader,
    events::{BytesRef, Event},
    name::{Namespace, ResolveResult},
};
use tokio::io::AsyncBufRead;

use super::{
    Fix, ImportError, Importer, Progress, Skip, SourceArticle, SourceAuthor, SourceComment, Thread,
};
use crate::domain::states::{ArticleStatus, CommentStatus};

/// What to import besides posts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub pages: bool,
}

/// Reads a WXR file from `input` and writes what it holds through `importer` (whose
/// source name this sets from the file's site address).
pub async fn import<R: AsyncBufRead + Unpin>(
    input: R,
    importer: &mut Importer<'_>,
    options: Options,
    progress: &mut Progress,
) -> Result<(), ImportError> {
    let mut reader = NsReader::from_reader(input);
    let mut buf = Vec::new();
    let mut state = State::default();
    loop {
        let event = match reader.read_event_into_async(&mut buf).await {
            Ok(event) => event,
            Err(e) => return Err(ImportError::xml(reader.buffer_position(), &e)),
        };
        let at = reader.buffer_position();
        let (namespace, event) = reader.resolver().resolve_event(event);
        let space = Space::of(&namespace);
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                state.open(space, name, at)?;
            }
            Event::End(end) => {
                let name = String::from_utf8_lossy(end.local_name().as_ref()).into_owned();
                if let Some(item) = state.close(space, &name, &options, importer) {
                    if !state.named {
                        // The channel's address comes before its items.
                        importer.set_source(format!("wordpress {}", state.site()));
                        state.named = true;
                    }
                    importer.write(item).await?;
                    progress.at(at, &importer.summary);
                }
            }
            Event::Empty(_) => state.text.clear(),
            Event::Text(text) => {
                let text = text.xml10_content().map_err(|e| ImportError::xml(at, &e))?;
                state.push(&text, at)?;
            }
            Event::CData(data) => {
                let text = data.xml10_content().map_err(|e| ImportError::xml(at, &e))?;
                state.push(&text, at)?;
            }
            Event::GeneralRef(reference) => {
                let text = entity(&reference);
                state.push(&text, at)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
        buf.clear();
    }
    if !state.seen_wxr {
        return Err(ImportError::NotWordPress);
    }
    progress.done(&importer.summary);
    Ok(())
}

/// The text an entity reference stands for; one that is unknown stays as written.
pub(super) fn entity(reference: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        return c.to_string();
    }
    let name = String::from_utf8_lossy(reference.as_ref()).into_owned();
    quick_xml::escape::resolve_html5_entity(&name)
        .map_or_else(|| format!("&{name};"), str::to_owned)
}

/// The namespaces a WXR file uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Space {
    /// RSS's own elements.
    None,
    Wp,
    Content,
    Excerpt,
    Dc,
    Other,
}

impl Space {
    fn of(namespace: &ResolveResult<'_>) -> Self {
        match namespace {
            ResolveResult::Unbound => Self::None,
            ResolveResult::Bound(Namespace(uri)) => Self::of_uri(&String::from_utf8_lossy(uri)),
            ResolveResult::Unknown(_) => Self::Other,
        }
    }

    fn of_uri(uri: &str) -> Self {
        let wordpress = uri
            .strip_prefix("https://wordpress.org/export/")
            .or_else(|| uri.strip_prefix("http://wordpress.org/export/"));
        if let Some(rest) = wordpress {
            // `1.2/` is WordPress's own namespace, `1.2/excerpt/` the excerpt's.
            let version = rest.trim_end_matches('/');
            return match version.split_once('/') {
                None if is_version(version) => Self::Wp,
                Some((v, "excerpt")) if is_version(v) => Self::Excerpt,
                _ => Self::Other,
            };
        }
        match uri {
            "http://purl.org/rss/1.0/modules/content/" => Self::Content,
            "http://purl.org/dc/elements/1.1/" => Self::Dc,
            _ => Self::Other,
        }
    }
}

/// `1.0`, `1.1`, `1.2`, ...
fn is_version(text: &str) -> bool {
    text.split_once('.').is_some_and(|(major, minor)| {
        major == "1" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Deeper than a WXR file ever nests: a file that does is refused, not followed.
pub(super) const MAX_DEPTH: usize = 32;
/// The most text one field may hold (a post's content is the largest).
pub(super) const MAX_FIELD: usize = 16 * 1024 * 1024;

/// Where the reader is, and what it has read of the current item.
#[derive(Default)]
struct State {
    path: Vec<(Space, String)>,
    text: String,
    /// The channel's `<link>` and `<wp:base_blog_url>`.
    link: String,
    blog_url: String,
    authors: Vec<SourceAuthor>,
    author: SourceAuthor,
    item: Item,
    comment: Comment,
    seen_wxr: bool,
    /// The importer knows the file's source.
    named: bool,
}

#[derive(Default)]
struct Item {
    title: String,
    creator: String,
    content: String,
    excerpt: String,
    post_id: String,
    date: String,
    date_gmt: String,
    comment_status: String,
    name: String,
    status: String,
    post_type: String,
    password: String,
    comments: Vec<Comment>,
}

#[derive(Default)]
struct Comment {
    id: String,
    author: String,
    email: String,
    url: String,
    date: String,
    date_gmt: String,
    content: String,
    approved: String,
    kind: String,
    parent: String,
}

impl State {
    fn open(&mut self, space: Space, name: String, at: u64) -> Result<(), ImportError> {
        if self.path.len() >= MAX_DEPTH {
            return Err(ImportError::TooDeep { at });
        }
        self.seen_wxr |= space == Space::Wp;
        // Each item, comment and author starts empty, wherever it stands in the file.
        match (space, name.as_str()) {
            (Space::None, "item") => self.item = Item::default(),
            (Space::Wp, "comment") => self.comment = Comment::default(),
            (Space::Wp, "author") => self.author = SourceAuthor::default(),
            _ => {}
        }
        self.path.push((space, name));
        self.text.clear();
        Ok(())
    }

    fn push(&mut self, text: &str, at: u64) -> Result<(), ImportError> {
        if self.text.len() + text.len() > MAX_FIELD {
            return Err(ImportError::TooLarge { at });
        }
        self.text.push_str(text);
        Ok(())
    }

    /// The site the file came from, which names it as a source: its host and path in
    /// lowercase, without the scheme, so an export made after a move to https is the
    /// same source.
    fn site(&self) -> String {
        let site = match self.blog_url.trim() {
            "" => self.link.trim(),
            url => url,
        };
        let site = site.to_lowercase();
        let site = site
            .strip_prefix("https://")
            .or_else(|| site.strip_prefix("http://"))
            .unwrap_or(&site)
            .trim_end_matches('/');
        match site {
            "" => "(no site address)".to_owned(),
            // Within `import_sources.source`, with room for the prefix.
            site => site.chars().take(250).collect(),
        }
    }

    /// Closes an element; an `<item>` that is done comes back as a thread to write.
    fn close(
        &mut self,
        space: Space,
        name: &str,
        options: &Options,
        importer: &mut Importer<'_>,
    ) -> Option<Thread> {
        let parent = self
            .path
            .len()
            .checked_sub(2)
            .and_then(|i| self.path.get(i))
            .map(|(s, n)| (*s, n.as_str()));
        let text = std::mem::take(&mut self.text);
        let mut done = None;
        match (parent, space, name) {
            (Some((Space::None, "channel")), Space::None, "link") => self.link = text,
            (Some((Space::None, "channel")), Space::Wp, "base_blog_url") => self.blog_url = text,
            (Some((Space::None, "channel")), Space::Wp, "author") => {
                self.authors.push(std::mem::take(&mut self.author));
            }
            (Some((Space::Wp, "author")), Space::Wp, "author_login") => self.author.login = text,
            (Some((Space::Wp, "author")), Space::Wp, "author_display_name") => {
                self.author.display_name = text;
            }
            (Some((Space::None, "channel")), Space::None, "item") => {
                let item = std::mem::take(&mut self.item);
                done = self.thread(item, options, importer);
            }
            (Some((Space::None, "item")), _, _) => self.item_field(space, name, text),
            (Some((Space::Wp, "comment")), Space::Wp, _) => self.comment_field(name, text),
            _ => {}
        }
        self.path.pop();
        done
    }

    fn item_field(&mut self, space: Space, name: &str, text: String) {
        let item = &mut self.item;
        match (space, name) {
            (Space::None, "title") => item.title = text,
            (Space::Dc, "creator") => item.creator = text,
            (Space::Content, "encoded") => item.content = text,
            (Space::Excerpt, "encoded") => item.excerpt = text,
            (Space::Wp, "post_id") => item.post_id = text,
            (Space::Wp, "post_date") => item.date = text,
            (Space::Wp, "post_date_gmt") => item.date_gmt = text,
            (Space::Wp, "comment_status") => item.comment_status = text,
            (Space::Wp, "post_name") => item.name = text,
            (Space::Wp, "status") => item.status = text,
            (Space::Wp, "post_type") => item.post_type = text,
            (Space::Wp, "post_password") => item.password = text,
            (Space::Wp, "comment") => {
                let comment = std::mem::take(&mut self.comment);
                item.comments.push(comment);
            }
            _ => {}
        }
    }

    fn comment_field(&mut self, name: &str, text: String) {
        let comment = &mut self.comment;
        match name {
            "comment_id" => comment.id = text,
            "comment_author" => comment.author = text,
            "comment_author_email" => comment.email = text,
            "comment_author_url" => comment.url = text,
            "comment_date" => comment.date = text,
            "comment_date_gmt" => comment.date_gmt = text,
            "comment_content" => comment.content = text,
            "comment_approved" => comment.approved = text,
            "comment_type" => comment.kind = text,
            "comment_parent" => comment.parent = text,
            _ => {}
        }
    }

    /// An item as a thread to import, or `None` (counted) when it is not one.
    fn thread(&self, item: Item, options: &Options, importer: &mut Importer<'_>) -> Option<Thread> {
        let summary = &mut importer.summary;
        match item.post_type.trim() {
            "post" => {}
            "page" if options.pages => {}
            "page" => {
                summary.skip(Skip::Page);
                return None;
            }
            "attachment" => {
                summary.skip(Skip::Attachment);
                return None;
            }
            "nav_menu_item" => {
                summary.skip(Skip::MenuItem);
                return None;
            }
            _ => {
                summary.skip(Skip::OtherType);
                return None;
            }
        }
        let title = item.title.trim().to_owned();
        let created_at = date(&item.date_gmt, &item.date).unwrap_or_else(Utc::now);
        let (status, drafted) = if !item.password.trim().is_empty() {
            (ArticleStatus::Draft, Some(Fix::PasswordProtected))
        } else {
            match item.status.trim() {
                "publish" => (ArticleStatus::Published, None),
                "future" => (ArticleStatus::Draft, Some(Fix::Scheduled)),
                _ => (ArticleStatus::Draft, None),
            }
        };
        let author = self
            .authors
            .iter()
            .find(|a| a.login == item.creator.trim())
            .cloned()
            .or_else(|| {
                (!item.creator.trim().is_empty()).then(|| SourceAuthor {
                    login: item.creator.trim().to_owned(),
                    display_name: item.creator.trim().to_owned(),
                })
            });
        let mut comments = Vec::with_capacity(item.comments.len());
        for comment in item.comments {
            match comment.kind.trim() {
                "pingback" => summary.skip(Skip::Pingback),
                "trackback" => summary.skip(Skip::Trackback),
                _ => comments.push(SourceComment {
                    status: match comment.approved.trim() {
                        "1" | "approve" => CommentStatus::Approved,
                        "spam" => CommentStatus::Spam,
                        "trash" | "post-trashed" => CommentStatus::Deleted,
                        _ => CommentStatus::Pending,
                    },
                    created_at: date(&comment.date_gmt, &comment.date).unwrap_or(created_at),
                    parent: match comment.parent.trim() {
                        "" | "0" => None,
                        parent => Some(parent.to_owned()),
                    },
                    source_id: comment.id.trim().to_owned(),
                    author_name: comment.author,
                    author_email: comment.email,
                    author_url: comment.url,
                    html: comment.content,
                }),
            }
        }
        Some(Thread {
            source_id: item.post_id.trim().to_owned(),
            article: SourceArticle {
                slug: item.name.trim().to_owned(),
                title,
                summary: plain_summary(&item.excerpt),
                body: item.content,
                published_at: (status == ArticleStatus::Published).then_some(created_at),
                status,
                created_at,
                reactions_open: item.comment_status.trim() != "closed",
                author,
                match_existing: false,
                drafted,
            },
            comments,
        })
    }
}

/// A WordPress date: the GMT one, or (for drafts, whose GMT date is all zeros) the
/// site's local one read as UTC.
fn date(gmt: &str, local: &str) -> Option<DateTime<Utc>> {
    [gmt, local].iter().find_map(|text| {
        NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|naive| naive.and_utc())
            .filter(super::plausible_date)
    })
}

/// An excerpt's text without its markup, on one line, within a summary's 500 characters.
fn plain_summary(html: &str) -> String {
    let line = crate::domain::html_markdown::plain_text(html);
    if line.chars().count() <= 500 {
        line
    } else {
        let mut cut: String = line.chars().take(499).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_namespace_forms_and_every_version_are_wordpress() {
        for uri in [
            "http://wordpress.org/export/1.0/",
            "http://wordpress.org/export/1.2/",
            "https://wordpress.org/export/1.1/",
            "https://wordpress.org/export/1.2/",
        ] {
            assert_eq!(Space::of_uri(uri), Space::Wp, "{uri}");
        }
        assert_eq!(
            Space::of_uri("https://wordpress.org/export/1.2/excerpt/"),
            Space::Excerpt
        );
        assert_eq!(
            Space::of_uri("http://wordpress.org/export/1.2/excerpt/"),
            Space::Excerpt
        );
        assert_eq!(Space::of_uri("https://wordpress.org/export/"), Space::Other);
        assert_eq!(
            Space::of_uri("https://example.org/export/1.2/"),
            Space::Other
        );
    }

    #[test]
    fn dates_are_gmt_or_else_local() {
        let d = date("2012-09-03 17:18:04", "2012-09-03 10:18:04").unwrap();
        assert_eq!(d.to_rfc3339(), "2012-09-03T17:18:04+00:00");
        let d = date("0000-00-00 00:00:00", "2013-01-02 03:04:05").unwrap();
        assert_eq!(d.to_rfc3339(), "2013-01-02T03:04:05+00:00");
        assert!(date("", "nonsense").is_none());
    }

    #[test]
    fn a_summary_is_plain_text_on_one_line() {
        assert_eq!(
            plain_summary("<p>Een <em>korte</em>\n samenvatting &amp; meer</p>"),
            "Een korte samenvatting & meer"
        );
        assert_eq!(plain_summary(&"x".repeat(600)).chars().count(), 500);
    }
}

/// No file panics the importer: arbitrary bytes, and a real export cut, spliced and
/// sprinkled with markup, each written into a database that must stay usable.
#[cfg(test)]
mod properties {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::*;
    use crate::store::{self, Db};

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><link>https://example.nl</link>
<wp:author><wp:author_login>redactie</wp:author_login><wp:author_display_name><![CDATA[Redactie]]></wp:author_display_name></wp:author>
<item><title>Een &amp; twee</title><dc:creator>redactie</dc:creator>
<content:encoded><![CDATA[<p>Tekst</p>]]></content:encoded><excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>1</wp:post_id><wp:post_date_gmt>2020-01-01 10:00:00</wp:post_date_gmt>
<wp:post_name>een-twee</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author><![CDATA[Ä]]></wp:comment_author>
<wp:comment_author_email>a@example.nl</wp:comment_author_email><wp:comment_author_url>https://a.example.nl</wp:comment_author_url>
<wp:comment_date_gmt>2020-01-02 10:00:00</wp:comment_date_gmt><wp:comment_content><![CDATA[<b>Hoi</b> &nbsp; <a href="x">y</a>]]></wp:comment_content>
<wp:comment_approved>1</wp:comment_approved><wp:comment_parent>2</wp:comment_parent></wp:comment>
<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_author>B</wp:comment_author>
<wp:comment_content>Antwoord &#233; &#x263A; &unknown;</wp:comment_content>
<wp:comment_approved>0</wp:comment_approved><wp:comment_parent>1</wp:comment_parent></wp:comment>
</item>
<item><title>Pagina</title><wp:post_id>2</wp:post_id><wp:post_type>page</wp:post_type><wp:status>draft</wp:status></item>
</channel></rss>"#;

    fn runtime() -> &'static tokio::runtime::Runtime {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            // The database's own tasks run on its worker between the tests' calls.
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a runtime")
        })
    }

    fn database() -> &'static Db {
        static DB: OnceLock<Db> = OnceLock::new();
        DB.get_or_init(|| {
            runtime().block_on(async {
                let db = Db::connect("sqlite::memory:").await.expect("in memory");
                store::migrate(&db).await.expect("migrated");
                db
            })
        })
    }

    /// The sample with one edit: a range cut out, bytes put in, a range doubled, or an end.
    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        let len = SAMPLE.len();
        let pieces = prop::sample::select(vec![
            &b"<"[..],
            b">",
            b"</item>",
            b"<item>",
            b"<wp:comment>",
            b"]]>",
            b"<![CDATA[",
            b"&",
            b"&amp",
            b"xmlns:wp=\"https://wordpress.org/export/1.1/\"",
            b"\xff\xfe",
            b"\0",
            b"<wp:comment_parent>1</wp:comment_parent>",
            b"<wp:post_type>post</wp:post_type>",
        ]);
        (0..4u8, 0..len, 0..len, pieces).prop_map(move |(edit, a, b, piece)| {
            let (from, to) = (a.min(b), a.max(b));
            let bytes = SAMPLE.as_bytes();
            match edit {
                0 => [&bytes[..from], &bytes[to..]].concat(),
                1 => [&bytes[..from], piece, &bytes[from..]].concat(),
                2 => [&bytes[..to], &bytes[from..]].concat(),
                _ => bytes[..from].to_vec(),
            }
        })
    }

    /// Text as an export may hold it: escaped, or in CDATA when it has no `]]>`.
    fn xml_text(text: &str) -> String {
        if text.contains("]]>") {
            quick_xml::escape::escape(text).into_owned()
        } else {
            format!("<![CDATA[{text}]]>")
        }
    }

    /// Well-formed exports with anything in their fields: names, addresses, URLs, dates,
    /// states, types, parents (also missing or circular ones) and HTML of any shape.
    fn generated() -> impl Strategy<Value = String> {
        let field = || {
            prop_oneof![
                any::<String>(),
                "[a-z0-9 <>/&\\[\\]*_#-]{0,40}",
                Just(String::new()),
                Just("<p>a<b>b</p></b><script>x</script>".to_owned()),
                Just("0000-00-00 00:00:00".to_owned()),
                Just("2020-02-30 25:61:00".to_owned()),
            ]
        };
        let comment = (0..6u8, 0..6u8, field(), field(), field(), field(), field(), field())
            .prop_map(|(id, parent, author, email, url, date, content, approved)| {
                format!(
                    "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_parent>{parent}</wp:comment_parent>\
                     <wp:comment_author>{}</wp:comment_author><wp:comment_author_email>{}</wp:comment_author_email>\
                     <wp:comment_author_url>{}</wp:comment_author_url><wp:comment_date_gmt>{}</wp:comment_date_gmt>\
                     <wp:comment_content>{}</wp:comment_content><wp:comment_approved>{}</wp:comment_approved></wp:comment>",
                    xml_text(&author), xml_text(&email), xml_text(&url), xml_text(&date),
                    xml_text(&content), xml_text(&approved)
                )
            });
        let kind = prop::sample::select(vec!["post", "page", "attachment", "nav_menu_item", "x"]);
        let status = prop::sample::select(vec!["publish", "future", "draft", "private", ""]);
        let item = (0..4u8, kind, status, field(), field(), field(), field(), prop::collection::vec(comment, 0..6))
            .prop_map(|(id, kind, status, title, name, content, password, comments)| {
                format!(
                    "<item><title>{}</title><wp:post_id>{id}</wp:post_id><wp:post_type>{kind}</wp:post_type>\
                     <wp:status>{status}</wp:status><wp:post_name>{}</wp:post_name>\
                     <content:encoded>{}</content:encoded><wp:post_password>{}</wp:post_password>{}</item>",
                    xml_text(&title), xml_text(&name), xml_text(&content), xml_text(&password),
                    comments.concat()
                )
            });
        prop::collection::vec(item, 0..5).prop_map(|items| {
            format!(
                "<rss xmlns:wp=\"https://wordpress.org/export/1.2/\" \
                 xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>{}</channel></rss>",
                items.concat()
            )
        })
    }

    fn import_bytes(bytes: &[u8]) {
        let db = database();
        runtime().block_on(async {
            let mut importer = Importer::new(db, "wordpress".to_owned(), None);
            let mut progress = Progress::Silent;
            let _ = import(bytes, &mut importer, Options { pages: true }, &mut progress).await;
            // The database still answers.
            store::articles::count(db.read())
                .await
                .expect("the database still works");
        });
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn an_edited_export_never_panics_the_importer(bytes in mutated()) {
            import_bytes(&bytes);
        }

        #[test]
        fn a_generated_export_never_panics_the_importer(text in generated()) {
            import_bytes(text.as_bytes());
        }

        #[test]
        fn any_bytes_never_panic_the_importer(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
            import_bytes(&bytes);
        }
    }

    #[test]
    fn the_sample_imports() {
        runtime().block_on(async {
            let db = Db::connect("sqlite::memory:").await.unwrap();
            store::migrate(&db).await.unwrap();
            let mut importer = Importer::new(&db, "wordpress".to_owned(), None);
            import(
                SAMPLE.as_bytes(),
                &mut importer,
                Options { pages: true },
                &mut Progress::Silent,
            )
            .await
            .unwrap();
            // A cycle of parents (1 -> 2 -> 1) still brings both in.
            assert_eq!(importer.summary.reactions_added(), 2);
            assert_eq!(importer.summary.articles_added(), 2);
        });
    }
}
