//! Reading an article's thread for a page or the API: first its shape (small rows of
//! approved reactions and the hidden ones they answer), then the content of only the
//! reactions on the page asked for. Held and spam reactions are never read, except a
//! viewer's own.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::{
    app::AppState,
    discussion,
    domain::{
        states::CommentStatus,
        thread::{self, Sort, Thread, Threaded},
    },
    entity::articles,
    error::{AppError, AppResult},
    store::{
        self, Scope,
        comments::{Placement, ThreadComment},
    },
    web::{
        page_cache::{Key, ThreadIndex, Value},
        reactions::OwnReactions,
    },
};

/// A reaction in the laid-out thread, before its content is read.
#[derive(Clone, Debug)]
pub struct Slot {
    pub id: i32,
    pub parent_id: Option<i32>,
    pub created_at: DateTime<Utc>,
    /// Shown in full: approved, or waiting and the viewer's own.
    pub visible: bool,
    /// Readers who found it helpful (what [`Sort::Helpful`] orders by).
    pub helpful_count: i32,
}

impl Threaded for Slot {
    fn id(&self) -> i32 {
        self.id
    }
    fn parent_id(&self) -> Option<i32> {
        self.parent_id
    }
    fn is_visible(&self) -> bool {
        self.visible
    }
    fn helpful(&self) -> i32 {
        self.helpful_count
    }
}

/// An article's whole thread, laid out.
#[derive(Debug)]
pub struct Laid {
    pub thread: Thread<Slot>,
    /// Approved reactions (what "N reacties" counts).
    pub approved: usize,
}

/// Lays out the public thread of an article in `sort`'s order, plus `own` (the viewer's
/// reactions that wait for a moderator, shown only to them).
pub async fn lay_out(
    db: &impl ConnectionTrait,
    article_id: i32,
    own: &[ThreadComment],
    sort: Sort,
) -> Result<Laid, DbErr> {
    let mut placements = store::comments::public_placements(db, article_id).await?;
    let approved = placements.iter().filter(|p| p.approved).count();
    let waiting: Vec<Placement> = own
        .iter()
        .filter(|c| c.status != CommentStatus::Approved)
        .map(|c| Placement {
            id: c.id,
            parent_id: c.parent_id,
            approved: false,
            created_at: c.created_at,
            helpful_count: 0,
        })
        .collect();
    if !waiting.is_empty() {
        placements.retain(|p| !waiting.iter().any(|w| w.id == p.id));
        placements.extend(waiting);
        placements.sort_by_key(|p| (p.created_at, p.id));
    }
    let own_ids: Vec<i32> = own.iter().map(|c| c.id).collect();
    let slots = placements
        .into_iter()
        .map(|p| Slot {
            visible: p.approved || own_ids.contains(&p.id),
            id: p.id,
            parent_id: p.parent_id,
            created_at: p.created_at,
            helpful_count: p.helpful_count,
        })
        .collect();
    Ok(Laid {
        thread: thread::build_sorted(slots, sort),
        approved,
    })
}

/// The content of the visible reactions of a laid-out page, by id (tombstones are not
/// read: they show nothing of their author). `known` rows are not read again.
pub async fn contents(
    db: &impl ConnectionTrait,
    article_id: i32,
    page: &Thread<Slot>,
    known: &[ThreadComment],
) -> Result<HashMap<i32, ThreadComment>, DbErr> {
    let wanted: Vec<i32> = page
        .rows
        .iter()
        .filter(|r| !r.tombstone && !known.iter().any(|k| k.id == r.item.id))
        .map(|r| r.item.id)
        .collect();
    let rows = store::comments::thread_rows(db, article_id, &wanted).await?;
    Ok(rows
        .into_iter()
        .chain(known.iter().cloned())
        .map(|c| (c.id, c))
        .collect())
}

/// The viewer's own reactions on this article that only they see differently from
/// everybody else: waiting ones (spam looks like waiting to its poster) and ones they
/// may still edit. Empty for a viewer who posted nothing here; one small query else.
pub async fn own_on_article(
    db: &impl ConnectionTrait,
    article_id: i32,
    own: &OwnReactions,
    now: DateTime<Utc>,
) -> Result<Vec<ThreadComment>, DbErr> {
    let ids = own.ids();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = store::comments::thread_rows(db, article_id, &ids).await?;
    Ok(rows
        .into_iter()
        .filter(|c| {
            discussion::holds_key(own.key_for(c.id), c.edit_key_hash.as_deref())
                && match c.status {
                    CommentStatus::Pending | CommentStatus::Spam => true,
                    CommentStatus::Approved => discussion::edit_window_open(c.created_at, now),
                    CommentStatus::Rejected | CommentStatus::Deleted => false,
                }
        })
        .collect())
}

/// The published article behind `slug` and its thread laid out in `sort`'s order, from
/// the cache or read (and cached) now. The article is read after its version was noted, so what is kept
/// is never newer than the version it is kept under; its id is remembered from an
/// earlier read so that the article and its thread are read at once.
pub async fn index(state: &AppState, slug: &str, sort: Sort) -> AppResult<Arc<ThreadIndex>> {
    let versions = state.db.versions();
    let key = Key::Thread(slug.to_owned(), sort);
    if let Some(Value::Thread(cached)) = state.pages.get(&key, versions) {
        return Ok(cached);
    }
    let remembered = state.pages.article_id(slug);
    let id = match remembered {
        Some(id) => id,
        None => {
            store::articles::find_readable(state.db.read(), slug, false)
                .await?
                .ok_or(AppError::NotFound)?
                .id
        }
    };
    let made = versions.snapshot(Scope::Article(id));
    let (article, laid) = tokio::try_join!(
        store::articles::find_by_id(state.db.read(), id),
        lay_out(state.db.read(), id, &[], sort),
    )?;
    let Some(article) = article.filter(|a| a.slug == slug && a.status.is_published()) else {
        state.pages.forget_article_id(slug);
        // A remembered id may belong to an article renamed since: look the slug up anew.
        return match remembered {
            Some(_) => Box::pin(index(state, slug, sort)).await,
            None => Err(AppError::NotFound),
        };
    };
    state.pages.remember_article_id(slug, id);
    let fresh = Arc::new(ThreadIndex::new(article, laid, made));
    state
        .pages
        .put(key, Value::Thread(Arc::clone(&fresh)), made, versions);
    Ok(fresh)
}

/// A published article for a write to it (a new reaction): from the page cache when
/// its index is there and current, else read (without laying out its thread).
pub async fn published_article(
    state: &AppState,
    slug: &str,
) -> AppResult<Option<Arc<articles::Model>>> {
    let key = Key::Thread(slug.to_owned(), Sort::default());
    if let Some(Value::Thread(cached)) = state.pages.get(&key, state.db.versions()) {
        return Ok(Some(Arc::clone(&cached.article)));
    }
    Ok(store::articles::find_readable(state.db.read(), slug, false)
        .await?
        .map(Arc::new))
}
