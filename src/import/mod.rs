//! Moving in: articles and reactions from a WordPress or Disqus export, and a whole
//! Kantlijn site from its own export ([`kantlijn`]).
//!
//! A WordPress or Disqus file is read as a stream of threads (an article with its
//! reactions); each thread is written in one transaction, with a row in
//! `import_sources` for every item, so a second run of the same file adds nothing and a
//! run that stopped halfway picks up where it stopped.

pub mod disqus;
pub mod kantlijn;
mod progress;
pub mod wordpress;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};

pub use progress::Progress;

use crate::store::changes::Change;
use crate::{
    domain::{
        html_markdown::{MAX_CONVERTED_BYTES, html_to_markdown, plain_text},
        markdown,
        states::{ArticleStatus, CommentStatus, LogAction, Role},
        validate::{AuthorName, Email, Slug, Username, WebUrl},
    },
    store::{
        self, Db,
        audit::{self, Entry},
        imports::{self, ImportedArticle, ImportedComment, Kind},
    },
};

/// The moderation log's actor for what an import decided.
pub const ACTOR: &str = "import";
/// The name of a reaction whose source had none.
const NO_NAME: &str = "Anoniem";
/// The title of an article whose source had none.
const NO_TITLE: &str = "(zonder titel)";
/// The password hash of an account an import made: no password matches it, so its
/// owner sets one with `kantlijn user add NAME --role ROLE`.
pub const NO_PASSWORD: &str = "!";

/// Why an item of the file was not imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    Pingback,
    Trackback,
    /// A page, when `--pages` was not given.
    Page,
    Attachment,
    MenuItem,
    /// Any other kind of WordPress item (blocks, templates, custom post types).
    OtherType,
    /// A Disqus post whose thread is not in the file.
    NoThread,
    /// A Disqus thread without posts: a page the embed loaded on, where nobody reacted.
    EmptyThread,
    /// A Disqus post without a `dsq:id`, which a second run could not recognise.
    NoId,
}

impl Skip {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pingback => "pingbacks",
            Self::Trackback => "trackbacks",
            Self::Page => "pages (import them with --pages)",
            Self::Attachment => "attachments",
            Self::MenuItem => "menu items",
            Self::OtherType => "items of other types",
            Self::NoThread => "posts of a thread that is not in the file",
            Self::EmptyThread => "Disqus threads without posts (no article made for them)",
            Self::NoId => "items without a usable id (none, or longer than 100 characters)",
        }
    }

    /// What the admin page says.
    pub fn label_nl(self) -> &'static str {
        match self {
            Self::Pingback => "pingbacks",
            Self::Trackback => "trackbacks",
            Self::Page => "pagina's (niet gekozen)",
            Self::Attachment => "bijlagen",
            Self::MenuItem => "menu-items",
            Self::OtherType => "items van een ander soort",
            Self::NoThread => "berichten bij een draad die niet in het bestand staat",
            Self::EmptyThread => "Disqus-draden zonder berichten (geen artikel voor gemaakt)",
            Self::NoId => "items zonder bruikbare id (geen, of langer dan 100 tekens)",
        }
    }
}

/// Something the importer changed on the way in and the operator should know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fix {
    /// A password-protected post became a draft (Kantlijn has no passwords on articles).
    PasswordProtected,
    /// A scheduled post became a draft.
    Scheduled,
    /// An author URL that is not a web address was left out.
    UrlDropped,
    /// An e-mail address that is not one was left out.
    EmailDropped,
    /// A name longer than 80 characters was shortened.
    NameShortened,
    /// A reaction without a name is shown as "Anoniem".
    NameMissing,
    /// A reply whose parent is not in the file (or was skipped) became a top-level one.
    ParentMissing,
    /// An article without a title got one.
    TitleMissing,
    /// A title longer than 200 characters was shortened.
    TitleShortened,
    /// A reaction too large to convert was kept whole as its HTML source.
    KeptAsSource,
    /// An account was made for an author; it has no password until one is set.
    UserCreated,
}

impl Fix {
    pub fn label(self) -> &'static str {
        match self {
            Self::PasswordProtected => "password-protected posts imported as drafts",
            Self::Scheduled => "scheduled posts imported as drafts",
            Self::UrlDropped => "author URLs that are not web addresses left out",
            Self::EmailDropped => "author e-mail addresses that are not addresses left out",
            Self::NameShortened => "author names shortened to 80 characters",
            Self::NameMissing => "reactions without a name shown as \"Anoniem\"",
            Self::ParentMissing => "replies whose parent is not in the file made top-level",
            Self::TitleMissing => "articles without a title",
            Self::TitleShortened => "titles shortened to 200 characters",
            Self::KeptAsSource => {
                "reactions over 128 KiB kept whole as their HTML source (shown as code)"
            }
            Self::UserCreated => {
                "accounts made for authors (no password: set one with `kantlijn user add`)"
            }
        }
    }

    pub fn label_nl(self) -> &'static str {
        match self {
            Self::PasswordProtected => "met wachtwoord beveiligde berichten, als concept",
            Self::Scheduled => "ingeplande berichten, als concept",
            Self::UrlDropped => "websites van schrijvers die geen webadres zijn, weggelaten",
            Self::EmailDropped => "e-mailadressen die geen adres zijn, weggelaten",
            Self::NameShortened => "namen ingekort tot 80 tekens",
            Self::NameMissing => "reacties zonder naam, getoond als \"Anoniem\"",
            Self::ParentMissing => "antwoorden zonder bovenliggende reactie, nu los geplaatst",
            Self::TitleMissing => "artikelen zonder titel",
            Self::TitleShortened => "titels ingekort tot 200 tekens",
            Self::KeptAsSource => "reacties groter dan 128 KB, als hun HTML-bron bewaard",
            Self::UserCreated => "accounts voor auteurs (nog zonder wachtwoord)",
        }
    }
}

/// What an import did, counted as it goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// New articles by status.
    pub articles: BTreeMap<ArticleStatus, u64>,
    /// Articles imported by an earlier run (or, for Disqus, found on the site).
    pub articles_existing: u64,
    /// New reactions by status.
    pub reactions: BTreeMap<CommentStatus, u64>,
    /// Reactions imported by an earlier run.
    pub reactions_existing: u64,
    pub skipped: BTreeMap<Skip, u64>,
    pub fixes: BTreeMap<Fix, u64>,
    /// The titles of the articles a [`Fix::PasswordProtected`] or [`Fix::Scheduled`]
    /// made drafts, with why.
    pub drafted: Vec<(String, Fix)>,
}

impl Summary {
    pub fn articles_added(&self) -> u64 {
        self.articles.values().sum()
    }

    pub fn reactions_added(&self) -> u64 {
        self.reactions.values().sum()
    }

    pub fn skip(&mut self, why: Skip) {
        *self.skipped.entry(why).or_default() += 1;
    }

    pub fn fix(&mut self, what: Fix) {
        *self.fixes.entry(what).or_default() += 1;
    }

    /// The summary for the terminal, one fact per line.
    pub fn lines(&self) -> Vec<String> {
        /// ` (3 draft, 55 published)`, or nothing when none were added.
        fn by_status<S: std::fmt::Display>(counts: &BTreeMap<S, u64>) -> String {
            if counts.is_empty() {
                return String::new();
            }
            let parts: Vec<String> = counts
                .iter()
                .map(|(status, n)| format!("{n} {status}"))
                .collect();
            format!(" ({})", parts.join(", "))
        }
        let mut lines = vec![format!(
            "articles: {} added{}, {} already there",
            self.articles_added(),
            by_status(&self.articles),
            self.articles_existing
        )];
        lines.push(format!(
            "reactions: {} added{}, {} already there",
            self.reactions_added(),
            by_status(&self.reactions),
            self.reactions_existing
        ));
        for (why, n) in &self.skipped {
            lines.push(format!("skipped: {n} {}", why.label()));
        }
        for (what, n) in &self.fixes {
            lines.push(format!("note: {n} {}", what.label()));
        }
        for (title, why) in &self.drafted {
            let why = match why {
                Fix::PasswordProtected => "password-protected",
                _ => "scheduled",
            };
            lines.push(format!("draft: {title} ({why})"));
        }
        if self.articles_added() == 0 && self.reactions_added() == 0 {
            lines.push("nothing new: everything in this file was imported before".to_owned());
        }
        lines
    }
}

/// An article with its reactions, as a source file holds it.
#[derive(Debug)]
pub struct Thread {
    /// The article's id in the source.
    pub source_id: String,
    pub article: SourceArticle,
    pub comments: Vec<SourceComment>,
}

#[derive(Debug)]
pub struct SourceArticle {
    /// The slug the source used (kept when it is a valid slug), or empty.
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// The body as Markdown source (HTML is valid Markdown for an article).
    pub body: String,
    pub status: ArticleStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub reactions_open: bool,
    /// The author's login in the source, when it names one.
    pub author: Option<SourceAuthor>,
    /// Disqus: use the site's article with this slug when there is one.
    pub match_existing: bool,
    /// Why a published article of the source comes in as a draft
    /// ([`Fix::PasswordProtected`] or [`Fix::Scheduled`]), reported when it is added.
    pub drafted: Option<Fix>,
}

#[derive(Clone, Debug, Default)]
pub struct SourceAuthor {
    pub login: String,
    pub display_name: String,
}

#[derive(Debug)]
pub struct SourceComment {
    pub source_id: String,
    pub parent: Option<String>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: String,
    /// The comment as HTML.
    pub html: String,
    pub status: CommentStatus,
    pub created_at: DateTime<Utc>,
}

/// Why an import stopped. What it wrote before stays: each article went in whole, and
/// running it again on the corrected file adds only what is missing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not well-formed XML near byte {at}: {detail}")]
    Xml { at: u64, detail: String },
    #[error(
        "the file is not a WordPress export (WXR): it has no element in the \
         wordpress.org/export/ namespace"
    )]
    NotWordPress,
    #[error("the file is not a Disqus export: {0}")]
    NotDisqus(String),
    #[error("the file nests its elements deeper than an export does (near byte {at})")]
    TooDeep { at: u64 },
    #[error("one field of the file holds more than 16 MiB of text (near byte {at})")]
    TooLarge { at: u64 },
    #[error("writing to the database failed")]
    Database(#[from] DbErr),
}

impl ImportError {
    pub fn xml(at: u64, detail: &dyn std::fmt::Display) -> Self {
        Self::Xml {
            at,
            detail: detail.to_string(),
        }
    }

    /// What the admin page says; `None` for a failure of the site rather than the file.
    pub fn message_nl(&self) -> Option<String> {
        Some(match self {
            Self::Xml { at, .. } => format!(
                "Het bestand is geen geldige XML (rond byte {at}). Wat ervoor stond is \
                 geïmporteerd; herstel het bestand en importeer het opnieuw: niets komt dubbel."
            ),
            Self::NotWordPress => "Dit is geen WordPress-export (WXR-bestand). Exporteer in \
                 WordPress via Gereedschap > Exporteren."
                .to_owned(),
            Self::NotDisqus(_) => "Dit is geen Disqus-export (XML-bestand uit de \
                 Disqus-beheeromgeving)."
                .to_owned(),
            Self::TooDeep { .. } | Self::TooLarge { .. } => {
                "Dit bestand is anders opgebouwd dan een export: te diep genest of met een \
                 veld groter dan 16 MiB."
                    .to_owned()
            }
            Self::Database(_) => return None,
        })
    }
}

/// Writes threads of one source file into the site.
pub struct Importer<'a> {
    db: &'a Db,
    /// Names the file's origin in `import_sources`, e.g. `wordpress https://example.org`.
    source: String,
    /// Who new articles without a known author belong to: the admin importing on the
    /// site, or on the command line an account `import` made when first needed.
    default_author: Option<i32>,
    authors: HashMap<String, i32>,
    pub summary: Summary,
}

impl<'a> Importer<'a> {
    pub fn new(db: &'a Db, source: String, default_author: Option<i32>) -> Self {
        Self {
            db,
            source,
            default_author,
            authors: HashMap::new(),
            summary: Summary::default(),
        }
    }

    /// Names the file's origin, once the file has said it.
    pub fn set_source(&mut self, source: String) {
        self.source = source;
    }

    /// Writes one thread in one transaction: the article (unless imported before) and
    /// each reaction not imported before, parents before their replies.
    pub async fn write(&mut self, mut thread: Thread) -> Result<(), DbErr> {
        if !usable_id(&thread.source_id) {
            self.summary.skip(Skip::NoId);
            return Ok(());
        }
        let before = thread.comments.len();
        thread.comments.retain(|c| usable_id(&c.source_id));
        for _ in thread.comments.len()..before {
            self.summary.skip(Skip::NoId);
        }
        // Converted and sanitised before the write lock is taken: the lock is held for
        // the queries alone, however long the thread.
        let prepared: Vec<Prepared> = thread.comments.iter().map(prepare).collect();
        let txn = self.db.begin().await?;
        let Some(article_id) = self.article(&txn, &thread).await? else {
            return txn.commit().await;
        };
        self.comments(&txn, article_id, &thread.comments, prepared)
            .await?;
        store::search::sync_article(&txn, article_id).await?;
        txn.commit().await?;
        // Before the page says the import is done: no cached page of this article (a
        // Disqus thread may join one that readers have seen) outlives it.
        self.db.changed(Change::Article(article_id)).await;
        Ok(())
    }

    /// The local article of a thread, made when it is new.
    async fn article(
        &mut self,
        txn: &DatabaseTransaction,
        thread: &Thread,
    ) -> Result<Option<i32>, DbErr> {
        let known =
            imports::imported(txn, &self.source, Kind::Article, &[&thread.source_id]).await?;
        if let Some(&id) = known.get(&thread.source_id) {
            self.summary.articles_existing += 1;
            // Gone since (no article is deleted today, but a thread must not land nowhere).
            return Ok(store::articles::find_by_id(txn, id).await?.map(|a| a.id));
        }
        let source = &thread.article;
        let wanted = Slug::parse(&source.slug)
            .ok()
            .or_else(|| Slug::from_title(&source.title))
            .or_else(|| Slug::from_title(&format!("artikel {}", thread.source_id)))
            .or_else(|| Slug::parse("artikel").ok());
        let Some(wanted) = wanted else {
            return Ok(None);
        };
        if source.match_existing
            && let Some(found) = store::articles::find_by_slug(txn, wanted.as_ref()).await?
        {
            imports::remember(
                txn,
                &self.source,
                Kind::Article,
                &thread.source_id,
                found.id,
            )
            .await?;
            self.summary.articles_existing += 1;
            return Ok(Some(found.id));
        }
        let slug = store::articles::free_slug(txn, &wanted, None).await?;
        let title = match plain_text(&source.title) {
            title if title.is_empty() => {
                self.summary.fix(Fix::TitleMissing);
                NO_TITLE.to_owned()
            }
            title if title.chars().count() > MAX_TITLE => {
                self.summary.fix(Fix::TitleShortened);
                cut(&title, MAX_TITLE)
            }
            title => title,
        };
        let author_id = self.author(txn, source.author.as_ref()).await?;
        let article = imports::insert_article(
            txn,
            ImportedArticle {
                slug: slug.into_inner(),
                title,
                summary: source.summary.trim().to_owned(),
                body_html: markdown::render_article(&source.body),
                body_md: source.body.clone(),
                status: source.status,
                published_at: source.published_at,
                author_id,
                reactions_open: source.reactions_open,
                created_at: source.created_at,
            },
        )
        .await?;
        imports::remember(
            txn,
            &self.source,
            Kind::Article,
            &thread.source_id,
            article.id,
        )
        .await?;
        *self.summary.articles.entry(source.status).or_default() += 1;
        if let Some(why) = source.drafted {
            self.summary.fix(why);
            self.summary.drafted.push((article.title.clone(), why));
        }
        Ok(Some(article.id))
    }

    /// The account an article is by: the source's author when there is an account of
    /// that name (made, without a password, when there is not), else the default.
    async fn author(
        &mut self,
        txn: &DatabaseTransaction,
        author: Option<&SourceAuthor>,
    ) -> Result<i32, DbErr> {
        let (login, display_name) = match author.and_then(|a| {
            // A login with characters a username cannot hold (WordPress allows spaces,
            // `@`; broken exports hold `>`) keeps the ones it can.
            let login: String = a
                .login
                .to_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .collect();
            Username::parse(&login)
                .ok()
                .map(|name| (name, a.display_name.trim()))
        }) {
            Some((name, display)) => (name, display.to_owned()),
            None => {
                if let Some(id) = self.default_author {
                    return Ok(id);
                }
                let name = Username::parse(ACTOR).map_err(|m| DbErr::Custom(m.to_string()))?;
                (name, "Import".to_owned())
            }
        };
        if let Some(&id) = self.authors.get(login.as_ref()) {
            return Ok(id);
        }
        let id = match store::users::find_by_username(txn, login.as_ref()).await? {
            Some(user) => user.id,
            None => {
                let user =
                    store::users::insert(txn, &login, Role::Editor, NO_PASSWORD.to_owned()).await?;
                let display_name = cut(&one_line(&display_name), MAX_DISPLAY_NAME);
                if !display_name.is_empty() && display_name != login.as_ref() {
                    store::users::set_display_name(txn, user.id, &display_name).await?;
                }
                self.summary.fix(Fix::UserCreated);
                user.id
            }
        };
        self.authors.insert(login.into_inner(), id);
        Ok(id)
    }

    async fn comments(
        &mut self,
        txn: &DatabaseTransaction,
        article_id: i32,
        comments: &[SourceComment],
        prepared: Vec<Prepared>,
    ) -> Result<(), DbErr> {
        let mut prepared: Vec<Option<Prepared>> = prepared.into_iter().map(Some).collect();
        let mut ids: Vec<&str> = comments.iter().map(|c| c.source_id.as_str()).collect();
        ids.extend(comments.iter().filter_map(|c| c.parent.as_deref()));
        let mut local = imports::imported(txn, &self.source, Kind::Comment, &ids).await?;
        // A parent imported before must still be a reaction on this article.
        let earlier: Vec<i32> = local.values().copied().collect();
        let homes = imports::articles_of(txn, &earlier).await?;
        let mut added = HashSet::new();
        for index in parents_first(comments) {
            let comment = &comments[index];
            if local.contains_key(&comment.source_id) {
                self.summary.reactions_existing += 1;
                continue;
            }
            let parent_id = match &comment.parent {
                None => None,
                Some(parent) => {
                    let found = local
                        .get(parent)
                        .copied()
                        .filter(|id| added.contains(id) || homes.get(id) == Some(&article_id));
                    if found.is_none() {
                        self.summary.fix(Fix::ParentMissing);
                    }
                    found
                }
            };
            let Some(Prepared { mut row, fixes }) = prepared[index].take() else {
                continue;
            };
            row.article_id = article_id;
            row.parent_id = parent_id;
            for fix in fixes {
                self.summary.fix(fix);
            }
            let status = row.status;
            let stored = imports::insert_comment(txn, row).await?;
            let reason = format!("{} #{}", self.source_name(), comment.source_id);
            audit::record(
                txn,
                Entry {
                    comment_id: stored.id,
                    actor: ACTOR,
                    action: LogAction::Import,
                    from_status: None,
                    to_status: status,
                    reason: Some(&reason),
                },
            )
            .await?;
            imports::remember(
                txn,
                &self.source,
                Kind::Comment,
                &comment.source_id,
                stored.id,
            )
            .await?;
            local.insert(comment.source_id.clone(), stored.id);
            added.insert(stored.id);
            *self.summary.reactions.entry(status).or_default() += 1;
        }
        Ok(())
    }

    /// The source's kind as the log's reason names it ("WordPress", "Disqus").
    fn source_name(&self) -> &str {
        match self.source.split_whitespace().next() {
            Some("wordpress") => "WordPress",
            Some("disqus") => "Disqus",
            Some(other) => other,
            None => "import",
        }
    }
}

/// A source reaction converted for storing, with what was changed on the way; its
/// article and parent are set when it is written.
struct Prepared {
    row: ImportedComment,
    fixes: Vec<Fix>,
}

/// A source reaction as it is stored: the name, address and URL checked like a reader's
/// (what fails is left out and counted), the HTML as Markdown source.
fn prepare(source: &SourceComment) -> Prepared {
    let mut fixes = Vec::new();
    let name = one_line(&source.author_name);
    let author_name = if name.is_empty() {
        fixes.push(Fix::NameMissing);
        NO_NAME.to_owned()
    } else if AuthorName::parse(&name).is_err() {
        fixes.push(Fix::NameShortened);
        cut(&name, MAX_NAME)
    } else {
        name
    };
    let author_email = match source.author_email.trim() {
        "" => String::new(),
        given => Email::parse(given)
            .map(Email::into_inner)
            .unwrap_or_else(|_| {
                fixes.push(Fix::EmailDropped);
                String::new()
            }),
    };
    let author_url = match WebUrl::parse_optional(&source.author_url) {
        Ok(url) => url.map(WebUrl::into_inner),
        Err(_) => {
            fixes.push(Fix::UrlDropped);
            None
        }
    };
    if source.html.len() > MAX_CONVERTED_BYTES {
        fixes.push(Fix::KeptAsSource);
    }
    let body_md = html_to_markdown(&source.html);
    Prepared {
        row: ImportedComment {
            article_id: 0,
            parent_id: None,
            author_name,
            author_email,
            author_url,
            body_html: markdown::render_reaction(&body_md),
            body_md,
            status: source.status,
            created_at: source.created_at,
        },
        fixes,
    }
}

/// A date an export may hold: from 1970 to 9999 (a year the export format and both
/// databases write the same way); anything else falls back to the date around it.
pub fn plausible_date(date: &DateTime<Utc>) -> bool {
    use chrono::Datelike;
    (1970..=9999).contains(&date.year())
}

/// The longest title, display name and reaction name the columns hold, in characters.
const MAX_TITLE: usize = 200;
const MAX_DISPLAY_NAME: usize = 80;
const MAX_NAME: usize = 80;
/// The longest id of a source item that `import_sources` keeps.
const MAX_SOURCE_ID: usize = 100;

/// Whether a source id can tell its item apart on a second run.
fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_SOURCE_ID
}

/// The first `max` characters of `text`, without white space at the end.
fn cut(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// Text on one line, white space collapsed and control characters left out.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The order to write `comments` in: every reaction after its parent when its parent
/// is among them, otherwise in file order. A cycle of parents (a broken file) is
/// broken where it is met.
fn parents_first(comments: &[SourceComment]) -> Vec<usize> {
    let index: HashMap<&str, usize> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| (c.source_id.as_str(), i))
        .collect();
    let mut placed = vec![false; comments.len()];
    let mut in_chain = vec![false; comments.len()];
    let mut order = Vec::with_capacity(comments.len());
    for start in 0..comments.len() {
        // Walk up to the highest ancestor not yet placed, then place down the chain.
        let mut chain = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            if placed[i] || in_chain[i] {
                break;
            }
            in_chain[i] = true;
            chain.push(i);
            at = comments[i]
                .parent
                .as_deref()
                .and_then(|p| index.get(p).copied());
        }
        for &i in chain.iter().rev() {
            placed[i] = true;
            order.push(i);
        }
    }
    order
}

/// Whether a database holds no site yet: no account, article or reaction.
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(store::users::count(db).await? == 0
        && store::articles::count(db).await? == 0
        && store::comments::count(db).await? == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(id: &str, parent: Option<&str>) -> SourceComment {
        SourceComment {
            source_id: id.to_owned(),
            parent: parent.map(str::to_owned),
            author_name: String::new(),
            author_email: String::new(),
            author_url: String::new(),
            html: String::new(),
            status: CommentStatus::Approved,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn parents_come_before_their_replies_at_any_depth() {
        let comments = vec![
            comment("c", Some("b")),
            comment("a", None),
            comment("b", Some("a")),
            comment("x", Some("missing")),
        ];
        let order: Vec<&str> = parents_first(&comments)
            .into_iter()
            .map(|i| comments[i].source_id.as_str())
            .collect();
        assert_eq!(order, ["a", "b", "c", "x"]);
    }

    #[test]
    fn a_cycle_of_parents_still_places_everyone_once() {
        let comments = vec![comment("a", Some("b")), comment("b", Some("a"))];
        let mut order = parents_first(&comments);
        order.sort_unstable();
        assert_eq!(order, [0, 1]);
    }
}
