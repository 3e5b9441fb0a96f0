//! `kantlijn import disqus`: the XML file of Disqus's "Export comments". A `<thread>` with
//! posts becomes an article: the site's own when its `<link>` ends in that article's slug
//! (never for a deleted thread), else a new draft that names the page. A `<post>` becomes a
//! reaction under its `<parent>`: deleted, else spam, else pending when not approved, else
//! approved. Threads without posts and posts without a thread are counted and left out.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use quick_xml::{
    NsReader, XmlVersion,
    events::{BytesStart, Event},
    name::{Namespace, NamespaceResolver, ResolveResult},
};
use tokio::io::AsyncBufRead;

use super::{
    ImportError, Importer, Progress, Skip, SourceArticle, SourceComment, Thread,
    wordpress::{MAX_DEPTH, MAX_FIELD, entity},
};
use crate::domain::{
    states::{ArticleStatus, CommentStatus},
    validate::Slug,
};

/// The namespace of a Disqus export's elements.
const DISQUS: &str = "http://disqus.com";
/// The namespace of its `dsq:id` attributes.
const INTERNALS: &str = "http://disqus.com/disqus-internals";

/// Reads a Disqus export from `input` and writes what it holds through `importer` (whose
/// source name this sets from the file's forum). When the file breaks off, what was read
/// before is written (but replies whose parent was not read yet) and the error returned.
pub async fn import<R: AsyncBufRead + Unpin>(
    input: R,
    importer: &mut Importer<'_>,
    progress: &mut Progress,
) -> Result<(), ImportError> {
    let mut export = Export::default();
    let read = read(input, &mut export, |at| progress.at(at, &importer.summary)).await;
    let stopped = match read {
        Ok(()) => None,
        Err(refused @ ImportError::NotDisqus(_)) => return Err(refused),
        Err(broken) => Some(broken),
    };
    let at = export.read_to;
    importer.set_source(export.source());
    let plan = plan(export, stopped.is_none());
    for (why, n) in plan.skipped {
        *importer.summary.skipped.entry(why).or_default() += n;
    }
    for thread in plan.threads {
        importer.write(thread).await?;
        progress.at(at, &importer.summary);
    }
    match stopped {
        Some(broken) => Err(broken),
        None => {
            progress.done(&importer.summary);
            Ok(())
        }
    }
}

/// What a Disqus file holds. Its posts come after all its threads, in no order of thread,
/// so they are held in memory (grouped by thread) until the file is read to its end: only
/// then is it known which threads have posts and where each reply's parent is.
#[derive(Debug, Default)]
struct Export {
    /// The forum's short name, from the first thread that names one.
    forum: String,
    /// In file order.
    threads: Vec<DisqusThread>,
    /// The posts of each thread, by the thread's `dsq:id`, in file order.
    posts: HashMap<String, Vec<Post>>,
    posts_without_id: u64,
    /// How far the reader got, in bytes.
    read_to: u64,
}

impl Export {
    /// The name of this file's origin in `import_sources`.
    fn source(&self) -> String {
        match self.forum.as_str() {
            "" => "disqus".to_owned(),
            forum => format!("disqus {forum}"),
        }
    }
}

#[derive(Debug, Default)]
struct DisqusThread {
    id: String,
    forum: String,
    link: String,
    title: String,
    message: String,
    created_at: Option<DateTime<Utc>>,
    closed: bool,
    deleted: bool,
}

#[derive(Debug, Default)]
struct Post {
    id: String,
    /// The `dsq:id` of its thread.
    thread: String,
    parent: Option<String>,
    name: String,
    username: String,
    email: String,
    /// HTML.
    message: String,
    created_at: Option<DateTime<Utc>>,
    deleted: bool,
    spam: bool,
    /// Only some exports say; none that does not is waiting.
    approved: Option<bool>,
}

impl DisqusThread {
    fn set(&mut self, field: &str, text: String) {
        match field {
            "forum" => self.forum = text.trim().to_owned(),
            "link" => self.link = text.trim().to_owned(),
            "title" => self.title = text,
            "message" => self.message = text,
            "createdAt" => self.created_at = date(&text),
            "isClosed" => self.closed = flag(&text),
            "isDeleted" => self.deleted = flag(&text),
            _ => {}
        }
    }

    /// The article for this thread: the site's own when the page's address ends in its
    /// slug, else a draft that says where the reactions were.
    fn into_article(self) -> SourceArticle {
        let slug = slug_of(&self.link);
        let note = match web_page(&self.link) {
            Some(url) => format!("Geïmporteerd uit Disqus; oorspronkelijke pagina: <{url}>"),
            None => "Geïmporteerd uit Disqus.".to_owned(),
        };
        let body = match self.message.trim() {
            "" => note,
            message => format!("{message}\n\n{note}"),
        };
        SourceArticle {
            // A deleted thread's reactions are not hung under a live article.
            match_existing: slug.is_some() && !self.deleted,
            slug: slug.unwrap_or_default(),
            title: self.title.trim().to_owned(),
            summary: String::new(),
            body,
            status: ArticleStatus::Draft,
            published_at: None,
            created_at: self.created_at.unwrap_or_else(Utc::now),
            reactions_open: !self.closed,
            author: None,
            drafted: None,
        }
    }
}

impl Post {
    fn set(&mut self, field: &str, text: String) {
        match field {
            "message" => self.message = text,
            "createdAt" => self.created_at = date(&text),
            "isDeleted" => self.deleted = flag(&text),
            "isSpam" => self.spam = flag(&text),
            "isApproved" => self.approved = Some(flag(&text)),
            _ => {}
        }
    }

    fn set_author(&mut self, field: &str, text: String) {
        match field {
            "name" => self.name = text,
            "username" => self.username = text,
            "email" => self.email = text,
            _ => {}
        }
    }

    fn status(&self) -> CommentStatus {
        if self.deleted {
            CommentStatus::Deleted
        } else if self.spam {
            CommentStatus::Spam
        } else if self.approved == Some(false) {
            CommentStatus::Pending
        } else {
            CommentStatus::Approved
        }
    }

    fn into_comment(self, thread_created: Option<DateTime<Utc>>) -> SourceComment {
        SourceComment {
            status: self.status(),
            created_at: self.created_at.or(thread_created).unwrap_or_else(Utc::now),
            author_name: if self.name.trim().is_empty() {
                self.username
            } else {
                self.name
            },
            author_email: self.email,
            author_url: String::new(),
            html: self.message,
            parent: self.parent,
            source_id: self.id,
        }
    }
}

/// What to write, threads in file order, and what is left out.
#[derive(Debug, Default)]
struct Plan {
    threads: Vec<Thread>,
    skipped: BTreeMap<Skip, u64>,
}

/// The threads to write from what was read; `complete` when the file was read to its end
/// (else only what is certain is written, and nothing is counted as left out).
fn plan(mut export: Export, complete: bool) -> Plan {
    let waiting = if complete {
        HashSet::new()
    } else {
        waiting_for_parent(&export.posts)
    };
    let mut plan = Plan::default();
    let mut empty = 0;
    for thread in std::mem::take(&mut export.threads) {
        let posts = match thread.id.as_str() {
            "" => None,
            id => export.posts.remove(id),
        };
        let created_at = thread.created_at;
        let comments: Vec<SourceComment> = posts
            .into_iter()
            .flatten()
            .filter(|post| !waiting.contains(&post.id))
            .map(|post| post.into_comment(created_at))
            .collect();
        if comments.is_empty() {
            empty += 1;
            continue;
        }
        plan.threads.push(Thread {
            source_id: thread.id.clone(),
            article: thread.into_article(),
            comments,
        });
    }
    let mut skip = |why, n| {
        if n > 0 {
            *plan.skipped.entry(why).or_default() += n;
        }
    };
    if complete {
        skip(Skip::EmptyThread, empty);
        let mut orphans = 0;
        for posts in export.posts.values() {
            orphans += posts.len() as u64;
        }
        skip(Skip::NoThread, orphans);
    }
    skip(Skip::NoId, export.posts_without_id);
    plan
}

/// The posts to hold back when the file broke off: replies whose parent (or its parent,
/// and so on) was not read yet, as it may come later in the file. Written now, they would
/// lose their place under it for good; the next run on the whole file places them.
fn waiting_for_parent(posts: &HashMap<String, Vec<Post>>) -> HashSet<String> {
    let parents: HashMap<&str, Option<&str>> = posts
        .values()
        .flatten()
        .map(|post| (post.id.as_str(), post.parent.as_deref()))
        .collect();
    let mut waits: HashMap<&str, bool> = HashMap::with_capacity(parents.len());
    for &start in parents.keys() {
        // Up the chain to a post whose answer is known, a top-level one, a parent not
        // read, or (in a broken file) a cycle; the answer then holds for the whole chain.
        let mut chain = Vec::new();
        let mut at = start;
        let answer = loop {
            if let Some(&known) = waits.get(at) {
                break known;
            }
            if chain.contains(&at) {
                break false;
            }
            chain.push(at);
            match parents.get(at).copied().flatten() {
                None => break false,
                Some(parent) if !parents.contains_key(parent) => break true,
                Some(parent) => at = parent,
            }
        };
        for id in chain {
            waits.insert(id, answer);
        }
    }
    waits
        .into_iter()
        .filter(|&(_, waits)| waits)
        .map(|(id, _)| id.to_owned())
        .collect()
}

/// Reads a whole Disqus export from `input` into `export`; `on_progress` hears the byte
/// position after each thread and post. What was read before an error stays in `export`.
async fn read<R: AsyncBufRead + Unpin>(
    input: R,
    export: &mut Export,
    mut on_progress: impl FnMut(u64),
) -> Result<(), ImportError> {
    let mut reader = NsReader::from_reader(input);
    let mut buf = Vec::new();
    let mut state = State::default();
    loop {
        let event = match reader.read_event_into_async(&mut buf).await {
            Ok(event) => event,
            Err(e) => return Err(state.broken(reader.buffer_position(), &e)),
        };
        let at = reader.buffer_position();
        export.read_to = at;
        let (namespace, event) = reader.resolver().resolve_event(event);
        let disqus = is(&namespace, DISQUS);
        match event {
            Event::Start(start) => {
                let id = id_of(disqus, &start, reader.resolver(), at)?;
                state.open(disqus, start.local_name().as_ref(), id, at)?;
            }
            Event::Empty(start) => {
                let id = id_of(disqus, &start, reader.resolver(), at)?;
                state.open(disqus, start.local_name().as_ref(), id, at)?;
                if state.close(export) {
                    on_progress(at);
                }
            }
            Event::End(_) => {
                if state.close(export) {
                    on_progress(at);
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content().map_err(|e| state.broken(at, &e))?;
                state.push(&text, at)?;
            }
            Event::CData(data) => {
                let text = data.xml10_content().map_err(|e| state.broken(at, &e))?;
                state.push(&text, at)?;
            }
            Event::GeneralRef(reference) => state.push(&entity(&reference), at)?,
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
        buf.clear();
    }
    state.finish(export.read_to)
}

/// Whether a resolved namespace is `uri` (a trailing slash aside).
fn is(namespace: &ResolveResult<'_>, uri: &str) -> bool {
    match namespace {
        ResolveResult::Bound(Namespace(bound)) => {
            let bound = bound.strip_suffix(b"/").unwrap_or(bound);
            bound == uri.as_bytes()
        }
        ResolveResult::Unbound | ResolveResult::Unknown(_) => false,
    }
}

/// The `dsq:id` of a Disqus element that carries one: an `id` attribute in the
/// disqus-internals namespace, whatever prefix the file binds to it.
fn id_of(
    disqus: bool,
    start: &BytesStart<'_>,
    resolver: &NamespaceResolver,
    at: u64,
) -> Result<Option<String>, ImportError> {
    if !disqus || !matches!(start.local_name().as_ref(), b"thread" | b"post" | b"parent") {
        return Ok(None);
    }
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| ImportError::xml(at, &e))?;
        let (namespace, local) = resolver.resolve_attribute(attribute.key);
        if local.as_ref() == b"id" && is(&namespace, INTERNALS) {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| ImportError::xml(at, &e))?;
            return Ok(Some(value.trim().to_owned()));
        }
    }
    Ok(None)
}

/// The names of the elements a Disqus export uses; others are read as "".
const NAMES: [&str; 19] = [
    "disqus",
    "category",
    "thread",
    "post",
    "author",
    "id",
    "forum",
    "link",
    "title",
    "message",
    "createdAt",
    "isClosed",
    "isDeleted",
    "isSpam",
    "isApproved",
    "email",
    "name",
    "username",
    "parent",
];

/// Where the reader is, and what it has read of the current thread or post.
#[derive(Default)]
struct State {
    /// The open elements, each by its name in [`NAMES`] ("" for any other).
    path: Vec<&'static str>,
    text: String,
    /// The root element was `<disqus>` in Disqus's namespace.
    root_seen: bool,
    thread: DisqusThread,
    post: Post,
}

impl State {
    fn open(
        &mut self,
        disqus: bool,
        local: &[u8],
        id: Option<String>,
        at: u64,
    ) -> Result<(), ImportError> {
        if self.path.len() >= MAX_DEPTH {
            return Err(ImportError::TooDeep { at });
        }
        if !self.root_seen {
            self.check_root(disqus, local)?;
        }
        let name = NAMES
            .into_iter()
            .find(|name| disqus && name.as_bytes() == local)
            .unwrap_or("");
        self.path.push(name);
        self.text.clear();
        match self.path.as_slice() {
            ["disqus", "thread"] => {
                self.thread = DisqusThread {
                    id: id.unwrap_or_default(),
                    ..DisqusThread::default()
                };
            }
            ["disqus", "post"] => {
                self.post = Post {
                    id: id.unwrap_or_default(),
                    ..Post::default()
                };
            }
            ["disqus", "post", "thread"] => self.post.thread = id.unwrap_or_default(),
            ["disqus", "post", "parent"] => self.post.parent = id.filter(|id| !id.is_empty()),
            _ => {}
        }
        Ok(())
    }

    /// The first element must be Disqus's `<disqus>`: anything else is refused at once.
    fn check_root(&mut self, disqus: bool, local: &[u8]) -> Result<(), ImportError> {
        let name: String = String::from_utf8_lossy(local).chars().take(40).collect();
        if name != "disqus" {
            let hint = if name == "rss" {
                " (a WordPress export? use `kantlijn import wordpress`)"
            } else {
                ""
            };
            return Err(ImportError::NotDisqus(format!(
                "its root element is <{name}>, not <disqus>{hint}"
            )));
        }
        if !disqus {
            return Err(ImportError::NotDisqus(format!(
                "its root element <disqus> is not in the {DISQUS} namespace"
            )));
        }
        self.root_seen = true;
        Ok(())
    }

    fn push(&mut self, text: &str, at: u64) -> Result<(), ImportError> {
        if !self.root_seen && !text.trim_start_matches('\u{feff}').trim().is_empty() {
            return Err(ImportError::NotDisqus(
                "it does not begin with an XML element".to_owned(),
            ));
        }
        if self.path.is_empty() {
            return Ok(());
        }
        if self.text.len() + text.len() > MAX_FIELD {
            return Err(ImportError::TooLarge { at });
        }
        self.text.push_str(text);
        Ok(())
    }

    /// Closes an element; says whether that finished a thread or a post.
    fn close(&mut self, export: &mut Export) -> bool {
        let text = std::mem::take(&mut self.text);
        let mut finished = false;
        match self.path.as_slice() {
            ["disqus", "thread"] => {
                let thread = std::mem::take(&mut self.thread);
                if export.forum.is_empty() {
                    export.forum.clone_from(&thread.forum);
                }
                export.threads.push(thread);
                finished = true;
            }
            ["disqus", "post"] => {
                let post = std::mem::take(&mut self.post);
                if post.id.is_empty() {
                    export.posts_without_id += 1;
                } else {
                    export
                        .posts
                        .entry(post.thread.clone())
                        .or_default()
                        .push(post);
                }
                finished = true;
            }
            ["disqus", "thread", field] => self.thread.set(field, text),
            ["disqus", "post", field] => self.post.set(field, text),
            ["disqus", "post", "author", field] => self.post.set_author(field, text),
            _ => {}
        }
        self.path.pop();
        finished
    }

    /// The error for XML the reader cannot read: before the root element, the file is
    /// not an export at all.
    fn broken(&self, at: u64, error: &dyn std::fmt::Display) -> ImportError {
        if self.root_seen {
            ImportError::xml(at, error)
        } else {
            ImportError::NotDisqus(format!("it is not XML (near byte {at}: {error})"))
        }
    }

    /// The end of the file: it must have held a whole `<disqus>`.
    fn finish(&self, at: u64) -> Result<(), ImportError> {
        if !self.root_seen {
            return Err(ImportError::NotDisqus(if at == 0 {
                "it is empty".to_owned()
            } else {
                "it holds no XML element".to_owned()
            }));
        }
        if !self.path.is_empty() {
            let inside = self
                .path
                .iter()
                .rev()
                .find(|name| !name.is_empty())
                .unwrap_or(&"disqus");
            return Err(ImportError::Xml {
                at,
                detail: format!("it ends inside <{inside}>, so it was cut off"),
            });
        }
        Ok(())
    }
}

/// A Disqus boolean.
fn flag(text: &str) -> bool {
    let text = text.trim();
    text.eq_ignore_ascii_case("true") || text == "1"
}

/// A Disqus date (ISO 8601 in UTC, `2013-06-27T12:38:36Z`); one without a zone is UTC.
fn date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|naive| naive.and_utc())
        })
        .filter(super::plausible_date)
}

/// The slug a page's address ends in: its last non-empty path segment, lowercase, without
/// `.html`, `.htm` or `.php`, when that is a valid slug.
fn slug_of(link: &str) -> Option<String> {
    let url = url::Url::parse(link.trim()).ok()?;
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    let segment = segment.to_ascii_lowercase();
    let stem = [".html", ".htm", ".php"]
        .into_iter()
        .find_map(|extension| segment.strip_suffix(extension))
        .unwrap_or(&segment);
    Slug::parse(stem).ok().map(Slug::into_inner)
}

/// A page's address when it is a web address, to link to from a draft.
fn web_page(link: &str) -> Option<url::Url> {
    url::Url::parse(link.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/disqus/export.xml");

    fn read_bytes(bytes: &[u8]) -> (Export, Result<(), ImportError>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let mut export = Export::default();
            let result = read(bytes, &mut export, |_| {}).await;
            (export, result)
        })
    }

    fn read_str(xml: &str) -> (Export, Result<(), ImportError>) {
        read_bytes(xml.as_bytes())
    }

    fn post<'a>(export: &'a Export, id: &str) -> &'a Post {
        export
            .posts
            .values()
            .flatten()
            .find(|p| p.id == id)
            .unwrap_or_else(|| panic!("post {id}"))
    }

    #[test]
    fn the_fixture_reads_as_threads_and_posts_by_thread() {
        let (export, result) = read_bytes(FIXTURE);
        result.unwrap();
        assert_eq!(export.source(), "disqus onderwijs-example");
        let ids: Vec<&str> = export.threads.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["2001", "2002", "2003", "2004"]);
        let order: Vec<&str> = export.posts["2001"].iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            order,
            [
                "3001", "3002", "3005", "3003", "3004", "3006", "3007", "3008", "3011"
            ]
        );
        assert_eq!(export.posts["2002"].len(), 2);
        assert_eq!(export.posts["9999"].len(), 1);
        assert!(!export.posts.contains_key("2003"));
        let thread = &export.threads[1];
        assert!(thread.closed && !thread.deleted);
        assert_eq!(
            thread.created_at.unwrap().to_rfc3339(),
            "2014-02-03T08:15:00+00:00"
        );
        assert!(export.threads[3].deleted);
        // Another prefix bound to the internals namespace is the same `dsq:id`.
        assert_eq!(post(&export, "3010").parent.as_deref(), Some("3009"));
        assert_eq!(
            post(&export, "3010").message,
            "<p>Herkenbaar. &quot;Minder regels&quot; bleek vooral meer formulieren.</p>"
        );
        assert_eq!(post(&export, "3003").name, "Γιώργος Παπαδόπουλος");
        assert_eq!(post(&export, "3002").email, "");
        assert_eq!(
            post(&export, "3001").message,
            "<p>Eindelijk duidelijkheid over het <b>lerarenregister</b>. Zie ook \
             <a href=\"https://www.example.org/lerarenportfolio\">de uitleg</a>.</p>"
        );
    }

    #[test]
    fn the_plan_writes_threads_with_posts_in_file_order_and_counts_the_rest() {
        let (export, result) = read_bytes(FIXTURE);
        result.unwrap();
        let plan = plan(export, true);
        let ids: Vec<&str> = plan.threads.iter().map(|t| t.source_id.as_str()).collect();
        assert_eq!(ids, ["2001", "2002", "2004"]);
        assert_eq!(
            plan.skipped,
            BTreeMap::from([(Skip::NoThread, 1), (Skip::EmptyThread, 1)])
        );

        let matched = &plan.threads[0].article;
        assert!(matched.match_existing);
        assert_eq!(matched.slug, "lerarenregister-wordt-lerarenportfolio");

        let new = &plan.threads[1].article;
        assert_eq!(new.slug, "werkdruk-in-het-primair-onderwijs");
        assert_eq!(new.title, "Werkdruk in het primair onderwijs");
        assert_eq!(new.status, ArticleStatus::Draft);
        assert!(!new.reactions_open, "the thread was closed");
        assert!(new.author.is_none());
        assert_eq!(
            new.body,
            "Geïmporteerd uit Disqus; oorspronkelijke pagina: \
             <https://onderwijs.example.nl/artikelen/werkdruk-in-het-primair-onderwijs/\
             ?utm_source=nieuwsbrief#reacties>"
        );

        let deleted = &plan.threads[2].article;
        assert!(!deleted.match_existing, "a deleted thread gets a draft");
        assert!(
            deleted
                .body
                .starts_with("<p>Een bericht dat <b>niet meer</b>")
        );
        assert!(deleted.body.ends_with("oud-bericht-over-de-cao/>"));

        let statuses: BTreeMap<&str, CommentStatus> = plan
            .threads
            .iter()
            .flat_map(|t| &t.comments)
            .map(|c| (c.source_id.as_str(), c.status))
            .collect();
        assert_eq!(statuses["3001"], CommentStatus::Approved);
        assert_eq!(statuses["3006"], CommentStatus::Spam);
        assert_eq!(statuses["3007"], CommentStatus::Deleted);
        assert_eq!(statuses["3008"], CommentStatus::Pending);
        assert_eq!(statuses["3011"], CommentStatus::Approved);
        assert_eq!(statuses.len(), 12);
        let ines = plan.threads[0]
            .comments
            .iter()
            .find(|c| c.source_id == "3011")
            .unwrap();
        assert_eq!(ines.author_name, "ines_k", "no name: the username");
        assert_eq!(ines.created_at.to_rfc3339(), "2013-06-28T21:30:00+00:00");
    }

    #[test]
    fn deleted_wins_over_spam_and_spam_over_not_approved() {
        let cases = [
            ((true, true, Some(false)), CommentStatus::Deleted),
            ((false, true, Some(false)), CommentStatus::Spam),
            ((false, false, Some(false)), CommentStatus::Pending),
            ((false, false, Some(true)), CommentStatus::Approved),
            ((false, false, None), CommentStatus::Approved),
        ];
        for ((deleted, spam, approved), expected) in cases {
            let post = Post {
                deleted,
                spam,
                approved,
                ..Post::default()
            };
            assert_eq!(post.status(), expected, "{deleted} {spam} {approved:?}");
        }
    }

    const HEAD: &str =
        r#"<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">"#;

    #[test]
    fn only_an_id_in_the_internals_namespace_is_a_disqus_id() {
        let xml = format!(
            r#"{HEAD}<thread dsq:id="1"><link>https://x.nl/a/</link></thread>
            <post id="5"><thread dsq:id="1"/></post>
            <post xmlns:o="http://example.org/other" o:id="6"><thread dsq:id="1"/></post>
            <post dsq:id="7"><thread id="1"/></post></disqus>"#
        );
        let (export, result) = read_str(&xml);
        result.unwrap();
        assert_eq!(export.posts_without_id, 2);
        assert_eq!(export.posts[""].len(), 1, "post 7 names no thread");
        let plan = plan(export, true);
        assert_eq!(
            plan.skipped,
            BTreeMap::from([(Skip::NoThread, 1), (Skip::EmptyThread, 1), (Skip::NoId, 2)])
        );
    }

    #[test]
    fn what_is_not_a_disqus_export_is_refused_with_why() {
        let cases = [
            ("", "it is empty"),
            ("   \n", "holds no XML element"),
            ("{\"articles\": []}", "does not begin with an XML element"),
            (
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>",
                "<rss>, not <disqus> (a WordPress export?",
            ),
            (
                "<disqus><thread/></disqus>",
                "not in the http://disqus.com namespace",
            ),
            (
                "<disqus xmlns=\"http://disqus.com/disqus-internals\"/>",
                "not in the http://disqus.com namespace",
            ),
            ("<html lang=nl><body>", "<html>, not <disqus>"),
            ("<<<\u{0}\u{1}", "it is not XML"),
        ];
        for (input, why) in cases {
            match read_str(input).1 {
                Err(ImportError::NotDisqus(reason)) => {
                    assert!(reason.contains(why), "{input:?}: {reason}");
                }
                other => panic!("{input:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_byte_order_mark_and_a_declaration_are_fine() {
        let xml = format!("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{HEAD}</disqus>");
        let (export, result) = read_str(&xml);
        result.unwrap();
        assert_eq!(export.source(), "disqus");
    }

    #[test]
    fn a_cut_off_file_keeps_what_came_before_but_replies_whose_parent_is_missing() {
        let text = std::str::from_utf8(FIXTURE).unwrap();
        // Just after post 3005, whose parent 3011 comes at the end of the file: inside
        // the next post's start tag, and just after it.
        let next = "<post dsq:id=\"3003\">";
        let cut = text.find(next).unwrap();
        let (_, result) = read_bytes(&FIXTURE[..cut + 10]);
        assert!(matches!(result, Err(ImportError::Xml { .. })), "{result:?}");
        let (export, result) = read_bytes(&FIXTURE[..cut + next.len()]);
        match result {
            Err(ImportError::Xml { detail, .. }) => {
                assert_eq!(detail, "it ends inside <post>, so it was cut off");
            }
            other => panic!("{other:?}"),
        }
        let plan = plan(export, false);
        let written: Vec<&str> = plan
            .threads
            .iter()
            .flat_map(|t| &t.comments)
            .map(|c| c.source_id.as_str())
            .collect();
        assert_eq!(written, ["3001", "3002", "3009"]);
        assert!(plan.skipped.is_empty(), "nothing is known to be left out");
    }

    #[test]
    fn replies_wait_for_a_missing_parent_at_any_depth_and_cycles_end() {
        let post = |id: &str, parent: Option<&str>| Post {
            id: id.to_owned(),
            parent: parent.map(str::to_owned),
            ..Post::default()
        };
        let posts = HashMap::from([(
            "t".to_owned(),
            vec![
                post("a", None),
                post("b", Some("a")),
                post("c", Some("x")),
                post("d", Some("c")),
                post("e", Some("d")),
                post("f", Some("g")),
                post("g", Some("f")),
            ],
        )]);
        let mut waiting: Vec<String> = waiting_for_parent(&posts).into_iter().collect();
        waiting.sort();
        assert_eq!(waiting, ["c", "d", "e"]);
    }

    #[test]
    fn a_link_gives_its_last_segment_when_that_is_a_slug() {
        let cases = [
            (
                "https://example.nl/artikelen/lerarenregister/",
                Some("lerarenregister"),
            ),
            ("https://example.nl/a/b-c?x=1#reacties", Some("b-c")),
            (
                "http://example.nl/2013/06/Werkdruk-Stijgt.html",
                Some("werkdruk-stijgt"),
            ),
            ("https://example.nl/", None),
            ("https://example.nl/?p=123", None),
            ("https://example.nl/a/co%C3%B6peratie/", None),
            ("https://example.nl/a/under_score/", None),
            ("niet een adres", None),
            ("", None),
        ];
        for (link, slug) in cases {
            assert_eq!(slug_of(link).as_deref(), slug, "{link}");
        }
        assert!(web_page("javascript:alert(1)").is_none());
        assert!(web_page("https://example.nl/a/").is_some());
    }

    #[test]
    fn dates_are_iso_8601() {
        let d = date(" 2013-06-27T12:38:36Z ").unwrap();
        assert_eq!(d.to_rfc3339(), "2013-06-27T12:38:36+00:00");
        let d = date("2013-06-27T14:38:36+02:00").unwrap();
        assert_eq!(d.to_rfc3339(), "2013-06-27T12:38:36+00:00");
        let d = date("2013-06-27T12:38:36.250").unwrap();
        assert_eq!(d.timestamp_millis() % 1000, 250);
        assert!(date("gisteren").is_none());
        assert!(date("").is_none());
    }

    mod never_panics {
        use proptest::{collection::vec, prelude::*, sample::Index};

        use super::*;

        /// Pieces of a Disqus file to drop into one at random.
        const PIECES: [&str; 14] = [
            "<post dsq:id=\"3001\">",
            "</post>",
            "<thread dsq:id=\"2001\"/>",
            "</thread>",
            "<parent dsq:id=\"3011\"/>",
            "<![CDATA[<p>",
            "]]>",
            "&amp;",
            "&#x1F600;",
            "&onbekend;",
            "xmlns=\"\"",
            "xmlns:dsq=\"http://example.org/\"",
            "<disqus xmlns=\"http://disqus.com\">",
            "<!-- -->",
        ];

        fn parse(bytes: &[u8]) {
            let (export, result) = read_bytes(bytes);
            let _ = plan(export, result.is_ok());
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            #[test]
            fn on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..2048)) {
                parse(&bytes);
            }

            #[test]
            fn on_a_mutated_export(
                edits in vec((any::<Index>(), 0u8..5, any::<u8>(), 0usize..80), 1..8)
            ) {
                let mut bytes = FIXTURE.to_vec();
                for (at, op, byte, len) in edits {
                    let at = at.index(bytes.len() + 1);
                    match op {
                        0 => bytes.truncate(at),
                        1 => {
                            let end = (at + len).min(bytes.len());
                            bytes.drain(at..end);
                        }
                        2 => {
                            if let Some(b) = bytes.get_mut(at) {
                                *b = byte;
                            }
                        }
                        3 => bytes.insert(at, byte),
                        _ => {
                            let piece = PIECES[usize::from(byte) % PIECES.len()];
                            bytes.splice(at..at, piece.bytes());
                        }
                    }
                }
                parse(&bytes);
            }
        }
    }
}
