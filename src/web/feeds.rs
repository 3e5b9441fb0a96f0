//! Atom feeds of articles, of one article's reactions and of the newest reactions across
//! the site, and the sitemap. All carry an ETag and Last-Modified and answer 304 when
//! the reader already has them.

use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
use chrono::{DateTime, Utc};
use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::{Data, Path},
};
use quick_xml::{Writer, events::BytesText};
use sha2::{Digest, Sha256};

use crate::{
    app::AppState,
    entity::{articles, comments},
    error::{AppError, AppResult},
    store::{self, comments::RecentComment},
};

const FEED_SIZE: usize = 50;

/// A `tag:` URI that stays the same when a slug or the site's address path changes.
fn tag_id(state: &AppState, minted: DateTime<Utc>, what: &str) -> String {
    let host = state.settings.base_url.host_str().unwrap_or("localhost");
    format!("tag:{host},{}:{what}", minted.format("%Y-%m-%d"))
}

/// The site-wide feed's id: a tag URI dated by the year Kantlijn's feeds began.
fn site_tag(state: &AppState, what: &str) -> String {
    let host = state.settings.base_url.host_str().unwrap_or("localhost");
    format!("tag:{host},2026:{what}")
}

fn absolute(state: &AppState, path: &str) -> String {
    state
        .settings
        .base_url
        .join(path.trim_start_matches('/'))
        .map_or_else(|_| path.to_owned(), |url| url.to_string())
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    let mut link = Link::default();
    link.set_href(href);
    link.set_rel(rel);
    link.set_mime_type(mime.map(str::to_owned));
    link
}

fn html_text(html: String) -> Content {
    let mut content = Content::default();
    content.set_content_type(Some("html".to_owned()));
    content.set_value(Some(html));
    content
}

fn person(name: &str) -> Person {
    let mut person = Person::default();
    person.set_name(name);
    person
}

/// `/feed.xml`: the latest published articles.
#[handler]
pub async fn articles_feed(Data(state): Data<&AppState>, req: &Request) -> AppResult<Response> {
    let articles =
        store::articles::latest_published(state.db.read(), Some(FEED_SIZE as u64)).await?;
    let updated = articles.iter().map(|a| a.updated_at).max();
    let entries: Vec<Entry> = articles.iter().map(|a| article_entry(state, a)).collect();
    let head = Head {
        id: site_tag(state, "artikelen"),
        title: "Kantlijn: artikelen".to_owned(),
        subtitle: Some("Artikelen over onderwijsbeleid, met reacties van lezers."),
        feed_path: "/feed.xml".to_owned(),
        page: absolute(state, "/"),
    };
    answer(state, req, head, entries, updated)
}

/// What sets one feed apart from the others.
struct Head {
    id: String,
    title: String,
    subtitle: Option<&'static str>,
    /// The feed's own path.
    feed_path: String,
    /// The page it follows, as an absolute address.
    page: String,
}

/// The feed as Atom, Dutch, linked to itself and its page, with `ETag` and 304; `updated`
/// is its newest entry's (none: the epoch).
fn answer(
    state: &AppState,
    req: &Request,
    head: Head,
    entries: Vec<Entry>,
    updated: Option<DateTime<Utc>>,
) -> AppResult<Response> {
    let mut feed = Feed::default();
    feed.set_id(head.id);
    feed.set_title(head.title);
    feed.set_subtitle(head.subtitle.map(Text::plain));
    feed.set_lang(Some("nl".to_owned()));
    feed.set_updated(updated.unwrap_or(DateTime::UNIX_EPOCH));
    feed.set_links(vec![
        link(
            absolute(state, &head.feed_path),
            "self",
            Some("application/atom+xml"),
        ),
        link(head.page, "alternate", Some("text/html")),
    ]);
    feed.set_entries(entries);
    conditional(
        req,
        feed.to_string(),
        "application/atom+xml; charset=utf-8",
        updated,
    )
}

fn article_entry(state: &AppState, article: &articles::Model) -> Entry {
    let url = absolute(state, &format!("/artikelen/{}", article.slug));
    let mut entry = Entry::default();
    entry.set_id(tag_id(
        state,
        article.created_at,
        &format!("artikel-{}", article.id),
    ));
    entry.set_title(article.title.as_str());
    entry.set_updated(article.updated_at);
    entry.set_published(article.published_at.map(Into::into));
    entry.set_links(vec![link(url, "alternate", Some("text/html"))]);
    entry.set_authors(vec![person("Redactie")]);
    if !article.summary.is_empty() {
        entry.set_summary(Some(Text::plain(article.summary.as_str())));
    }
    entry.set_content(Some(html_text(article.body_html.clone())));
    entry
}

/// `/artikelen/{slug}/feed.xml`: the latest approved reactions of one article.
#[handler]
pub async fn reactions_feed(
    Data(state): Data<&AppState>,
    req: &Request,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let article = store::articles::find_readable(state.db.read(), &slug, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let approved =
        store::comments::latest_approved(state.db.read(), article.id, FEED_SIZE as u64).await?;
    let updated = approved.iter().map(|c| c.updated_at).max();
    let page = absolute(state, &format!("/artikelen/{}", article.slug));
    let entries: Vec<Entry> = approved
        .into_iter()
        .map(|c| reaction_entry(state, &page, c))
        .collect();
    let head = Head {
        id: tag_id(
            state,
            article.created_at,
            &format!("artikel-{}-reacties", article.id),
        ),
        title: format!("Reacties op: {}", article.title),
        subtitle: None,
        feed_path: format!("/artikelen/{}/feed.xml", article.slug),
        page,
    };
    answer(
        state,
        req,
        head,
        entries,
        updated.or(Some(article.updated_at)),
    )
}

/// One approved reaction in its article's feed; `page` is the article's address.
fn reaction_entry(state: &AppState, page: &str, comment: comments::Model) -> Entry {
    let mut entry = Entry::default();
    let id = comment.id;
    entry.set_id(tag_id(state, comment.created_at, &format!("reactie-{id}")));
    entry.set_title(format!("Reactie van {}", comment.author_name));
    entry.set_updated(comment.updated_at);
    entry.set_published(Some(comment.created_at.into()));
    let href = format!("{page}#reactie-{id}");
    entry.set_links(vec![link(href, "alternate", Some("text/html"))]);
    entry.set_authors(vec![person(&comment.author_name)]);
    entry.set_content(Some(html_text(comment.body_html)));
    entry
}

/// `/reacties/feed.xml`: the newest approved reactions of published articles.
#[handler]
pub async fn recent_feed(Data(state): Data<&AppState>, req: &Request) -> AppResult<Response> {
    let recent = store::comments::recent_approved(state.db.read(), 0, FEED_SIZE as u64).await?;
    let updated = recent.iter().map(|c| c.updated_at).max();
    let entries: Vec<Entry> = recent.into_iter().map(|c| recent_entry(state, c)).collect();
    let head = Head {
        id: site_tag(state, "reacties"),
        title: "Kantlijn: recente reacties".to_owned(),
        subtitle: Some("De nieuwste reacties van lezers op alle artikelen."),
        feed_path: "/reacties/feed.xml".to_owned(),
        page: absolute(state, "/reacties"),
    };
    answer(state, req, head, entries, updated)
}

/// One reaction in the site-wide feed: the same entry id as in its article's feed.
fn recent_entry(state: &AppState, comment: RecentComment) -> Entry {
    let mut entry = Entry::default();
    let id = comment.id;
    entry.set_id(tag_id(state, comment.created_at, &format!("reactie-{id}")));
    entry.set_title(format!(
        "Reactie van {} op: {}",
        comment.author_name, comment.article_title
    ));
    entry.set_updated(comment.updated_at);
    entry.set_published(Some(comment.created_at.into()));
    let href = absolute(
        state,
        &format!(
            "/artikelen/{}?reactie={id}#reactie-{id}",
            comment.article_slug
        ),
    );
    entry.set_links(vec![link(href, "alternate", Some("text/html"))]);
    entry.set_authors(vec![person(&comment.author_name)]);
    entry.set_content(Some(html_text(comment.body_html)));
    entry
}

/// `/sitemap.xml`: the front page and every published article.
#[handler]
pub async fn sitemap(Data(state): Data<&AppState>, req: &Request) -> AppResult<Response> {
    let articles = store::articles::published_slugs(state.db.read()).await?;
    let updated = articles.iter().map(|(_, at)| *at).max();
    let mut urls = vec![(absolute(state, "/"), updated)];
    urls.extend(
        articles
            .into_iter()
            .map(|(slug, at)| (absolute(state, &format!("/artikelen/{slug}")), Some(at))),
    );
    let mut writer = Writer::new(Vec::new());
    write_sitemap(&mut writer, &urls).map_err(AppError::internal)?;
    let xml = String::from_utf8(writer.into_inner()).map_err(AppError::internal)?;
    conditional(req, xml, "application/xml; charset=utf-8", updated)
}

/// Answers 304 when the client's ETag or date still matches, else the body with both.
fn conditional(
    req: &Request,
    body: String,
    content_type: &str,
    last_modified: Option<DateTime<Utc>>,
) -> AppResult<Response> {
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..32]
    );
    let http_date = |at: DateTime<Utc>| at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let not_modified = match req.header(header::IF_NONE_MATCH) {
        Some(tags) => tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        None => match (req.header(header::IF_MODIFIED_SINCE), last_modified) {
            (Some(since), Some(modified)) => DateTime::parse_from_rfc2822(since)
                .is_ok_and(|since| modified.timestamp() <= since.timestamp()),
            _ => false,
        },
    };
    let mut builder = Response::builder()
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, "public, max-age=60");
    if let Some(at) = last_modified {
        builder = builder.header(header::LAST_MODIFIED, http_date(at));
    }
    Ok(if not_modified {
        builder.status(StatusCode::NOT_MODIFIED).finish()
    } else {
        builder.content_type(content_type).body(body)
    })
}

/// A sitemap of `(address, last change)` pairs.
fn write_sitemap(
    writer: &mut Writer<Vec<u8>>,
    urls: &[(String, Option<DateTime<Utc>>)],
) -> std::io::Result<()> {
    writer.write_event(quick_xml::events::Event::Decl(
        quick_xml::events::BytesDecl::new("1.0", Some("UTF-8"), None),
    ))?;
    writer
        .create_element("urlset")
        .with_attribute(("xmlns", "http://www.sitemaps.org/schemas/sitemap/0.9"))
        .write_inner_content(|w| {
            for (loc, lastmod) in urls {
                w.create_element("url").write_inner_content(|w| {
                    w.create_element("loc")
                        .write_text_content(BytesText::new(loc))?;
                    if let Some(at) = lastmod {
                        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                        w.create_element("lastmod")
                            .write_text_content(BytesText::new(&at))?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    Ok(())
}
