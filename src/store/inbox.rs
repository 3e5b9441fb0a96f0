//! New reactions are decided and written in batches: whatever arrived while the previous
//! batch was being written goes in one transaction that reads what the rules need to
//! know of all its posters (bans, known authors) in two queries, lets each reaction's
//! own rules decide, and writes the reactions and their log rows as two multi-row
//! inserts. A lone reaction is written at once; a crowd of posters shares each write
//! lock (SQLite) or commit (PostgreSQL) instead of queueing for one apiece, and no
//! poster costs a round trip to the database of their own. Every poster still gets their
//! own answer, and a batch that fails is retried one by one, so one bad row never costs
//! the others their place.

use std::{collections::HashSet, future::Future, pin::Pin};

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Alias, Expr, Query},
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    domain::states::{CommentStatus, LogAction},
    entity::{bans, comments, moderation_log},
    security::AddressHash,
    store::{
        bans::{Kind, Standing},
        begin_write,
        comments::NewComment,
    },
};

/// The most reactions written in one transaction (far below the bound-parameter limits
/// of SQLite and PostgreSQL: 14 columns each).
const MAX_BATCH: usize = 128;
/// Posters waiting beyond this many wait to be queued (back-pressure, bounded memory).
const QUEUE: usize = 4096;

/// The log row written with a new reaction.
#[derive(Clone, Debug)]
pub struct LogRow {
    pub actor: String,
    pub action: LogAction,
    pub to_status: CommentStatus,
    pub reason: Option<String>,
}

/// What the rules make of a reaction once its poster's [`Standing`] is known.
#[derive(Clone, Debug)]
pub enum Verdict {
    Store {
        status: CommentStatus,
        log: LogRow,
    },
    /// Banned: nothing is stored.
    Refuse,
}

/// The reaction's own rules, run in the writer with its poster's standing.
pub type Decide = Box<dyn FnOnce(Standing) -> Verdict + Send + Sync>;

/// What else a stored reaction causes, in its own transaction (the mail it sets off);
/// called again should a failed batch be written one by one.
pub type After = Box<
    dyn for<'a> Fn(
            &'a DatabaseTransaction,
            &'a comments::Model,
        ) -> Pin<Box<dyn Future<Output = Result<(), DbErr>> + Send + 'a>>
        + Send
        + Sync,
>;

/// Who posts, as the rules look them up.
#[derive(Clone, Debug)]
struct Poster {
    email: String,
    name: String,
    address: AddressHash,
}

struct Job {
    row: comments::ActiveModel,
    edit_key_hash: String,
    poster: Poster,
    decide: Decide,
    after: Option<After>,
    reply: oneshot::Sender<Result<Option<comments::Model>, DbErr>>,
}

/// Where new reactions queue to be written.
#[derive(Clone, Debug)]
pub struct Inbox {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl Inbox {
    /// Starts the task that writes what arrives through `write`.
    pub fn start(write: DatabaseConnection) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(write, queue));
        Self { jobs }
    }

    /// Decides on a reaction with its poster's standing and stores it with its log row
    /// (and what `after` adds); answers when all is committed, or `None` when `decide`
    /// refused it.
    pub async fn submit(
        &self,
        new: NewComment,
        decide: Decide,
        after: Option<After>,
    ) -> Result<Option<comments::Model>, DbErr> {
        let edit_key_hash = new
            .edit_key_hash
            .clone()
            .ok_or_else(|| DbErr::Custom("a new reaction needs an edit key".into()))?;
        let poster = Poster {
            email: new.author_email.as_ref().to_owned(),
            name: new.author_name.as_ref().to_owned(),
            address: new.address.clone(),
        };
        let (reply, answer) = oneshot::channel();
        let job = Job {
            row: active(new),
            edit_key_hash,
            poster,
            decide,
            after,
            reply,
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| DbErr::Custom("the reaction writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the reaction writer has stopped".into()))?
    }
}

fn active(new: NewComment) -> comments::ActiveModel {
    let now = Utc::now();
    comments::ActiveModel {
        article_id: Set(new.article_id),
        parent_id: Set(new.parent_id),
        author_name: Set(new.author_name.into_inner()),
        author_email: Set(new.author_email.into_inner()),
        author_url: Set(new.author_url.map(|u| u.into_inner())),
        body_md: Set(new.body.into_inner()),
        body_html: Set(new.body_html.into_inner()),
        status: Set(new.status),
        user_id: Set(new.user_id),
        ip_hash: Set(new.address.stored),
        edit_key_hash: Set(new.edit_key_hash),
        notify_replies: Set(new.notify_replies),
        reply_notified: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

async fn run(write: DatabaseConnection, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A batch runs as a task of its own: should a reaction's rules panic, its posters
        // get an error and the inbox goes on taking reactions.
        let write = write.clone();
        let jobs = std::mem::take(&mut batch);
        if let Err(err) = tokio::spawn(async move { write_batch(&write, jobs).await }).await {
            tracing::error!(error = %err, "writing a batch of reactions panicked");
        }
    }
}

async fn write_batch(write: &DatabaseConnection, batch: Vec<Job>) {
    let mut batch: Vec<Decided> = batch.into_iter().map(Decided::from).collect();
    if batch.len() > 1 {
        match insert_all(write, &mut batch).await {
            Ok(models) => {
                for (job, model) in batch.into_iter().zip(models) {
                    let _ = job.reply.send(Ok(model));
                }
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, size = batch.len(), "a batch of reactions failed; writing them one by one");
            }
        }
    }
    for mut job in batch {
        let result = insert_all(write, std::slice::from_mut(&mut job))
            .await
            .map(|mut models| models.pop().flatten());
        let _ = job.reply.send(result);
    }
}

/// A job whose rules have run (or not yet: `decide` is taken the first time).
struct Decided {
    row: comments::ActiveModel,
    edit_key_hash: String,
    poster: Poster,
    decide: Option<Decide>,
    verdict: Option<Verdict>,
    after: Option<After>,
    reply: oneshot::Sender<Result<Option<comments::Model>, DbErr>>,
}

impl From<Job> for Decided {
    fn from(job: Job) -> Self {
        Self {
            row: job.row,
            edit_key_hash: job.edit_key_hash,
            poster: job.poster,
            decide: Some(job.decide),
            verdict: None,
            after: job.after,
            reply: job.reply,
        }
    }
}

/// In one transaction: reads the posters' standing, decides (once per job, also when
/// a failed batch is retried alone), inserts the stored reactions and their log rows.
/// The models come back in the order of `jobs`; `None` for a refused one.
async fn insert_all(
    write: &DatabaseConnection,
    jobs: &mut [Decided],
) -> Result<Vec<Option<comments::Model>>, DbErr> {
    let txn = begin_write(write).await?;
    let now = Utc::now();
    if jobs.iter().any(|j| j.verdict.is_none()) {
        let standings = standings(&txn, jobs, now).await?;
        for (job, standing) in jobs.iter_mut().zip(standings) {
            if let Some(decide) = job.decide.take() {
                job.verdict = Some(decide(standing));
            }
        }
    }
    let stored_jobs: Vec<(usize, comments::ActiveModel)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(index, job)| match &job.verdict {
            Some(Verdict::Store { status, .. }) => {
                let mut row = job.row.clone();
                row.status = Set(*status);
                Some((index, row))
            }
            _ => None,
        })
        .collect();
    let mut stored = if stored_jobs.is_empty() {
        Vec::new()
    } else {
        comments::Entity::insert_many(stored_jobs.iter().map(|(_, row)| row.clone()))
            .exec_with_returning(&txn)
            .await?
    };
    // RETURNING promises no order: match each row to its job by its unique edit key.
    let mut models: Vec<Option<comments::Model>> = vec![None; jobs.len()];
    let mut logs = Vec::with_capacity(stored_jobs.len());
    for (index, _) in &stored_jobs {
        let job = &jobs[*index];
        let at = stored
            .iter()
            .position(|m| m.edit_key_hash.as_deref() == Some(job.edit_key_hash.as_str()))
            .ok_or_else(|| DbErr::Custom("an inserted reaction did not come back".into()))?;
        let model = stored.swap_remove(at);
        if let Some(Verdict::Store { log, .. }) = &job.verdict {
            logs.push(moderation_log::ActiveModel {
                comment_id: Set(model.id),
                actor: Set(log.actor.clone()),
                action: Set(log.action),
                from_status: Set(None),
                to_status: Set(log.to_status),
                reason: Set(log.reason.clone()),
                created_at: Set(now),
                ..Default::default()
            });
        }
        models[*index] = Some(model);
    }
    if !logs.is_empty() {
        moderation_log::Entity::insert_many(logs)
            .exec_without_returning(&txn)
            .await?;
    }
    for (job, model) in jobs.iter().zip(&models) {
        if let (Some(after), Some(model)) = (&job.after, model) {
            after(&txn, model).await?;
        }
    }
    // What the rules approved is searchable from the same commit on.
    let approved: Vec<i32> = models
        .iter()
        .flatten()
        .filter(|m| m.status == CommentStatus::Approved)
        .map(|m| m.id)
        .collect();
    if !approved.is_empty() {
        super::search::sync_comments(&txn, &approved).await?;
    }
    txn.commit().await?;
    Ok(models)
}

/// The standing of every job's poster, in two queries for the whole batch.
async fn standings(
    db: &impl ConnectionTrait,
    jobs: &[Decided],
    now: chrono::DateTime<Utc>,
) -> Result<Vec<Standing>, DbErr> {
    let emails: Vec<String> = jobs.iter().map(|j| j.poster.email.to_lowercase()).collect();
    let hashes: Vec<&str> = jobs.iter().flat_map(|j| j.poster.address.all()).collect();
    let banned: HashSet<(String, String)> = bans::Entity::find()
        .select_only()
        .columns([bans::Column::Kind, bans::Column::Value])
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(bans::Column::Kind.eq(Kind::Email.as_str()))
                        .add(bans::Column::Value.is_in(emails.iter().map(String::as_str))),
                )
                .add(
                    Condition::all()
                        .add(bans::Column::Kind.eq(Kind::IpHash.as_str()))
                        .add(bans::Column::Value.is_in(hashes.iter().copied())),
                ),
        )
        .filter(
            Condition::any()
                .add(bans::Column::ExpiresAt.is_null())
                .add(bans::Column::ExpiresAt.gt(now)),
        )
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    // One EXISTS per distinct name and e-mail pair: it stops at the first approved
    // reaction, where a list of an author's approved reactions grows with every one.
    let mut pairs: Vec<(&str, &str)> = jobs
        .iter()
        .map(|j| (j.poster.email.as_str(), j.poster.name.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut query = Query::select();
    for (index, (email, name)) in pairs.iter().enumerate() {
        let approved = comments::Entity::find()
            .select_only()
            .column(comments::Column::Id)
            .filter(comments::Column::AuthorEmail.eq(*email))
            .filter(comments::Column::AuthorName.eq(*name))
            .filter(comments::Column::Status.eq(CommentStatus::Approved))
            .into_query();
        query.expr_as(Expr::exists(approved), Alias::new(format!("k{index}")));
    }
    let row = db
        .query_one(&query)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("known authors".into()))?;
    let mut known: HashSet<(String, String)> = HashSet::new();
    for (index, (email, name)) in pairs.iter().enumerate() {
        if row.try_get::<bool>("", &format!("k{index}"))? {
            known.insert(((*email).to_owned(), (*name).to_owned()));
        }
    }
    Ok(jobs
        .iter()
        .zip(&emails)
        .map(|(job, email)| Standing {
            banned: banned.contains(&(Kind::Email.as_str().to_owned(), email.clone()))
                || job.poster.address.all().any(|hash| {
                    banned.contains(&(Kind::IpHash.as_str().to_owned(), hash.to_owned()))
                }),
            known_author: known.contains(&(job.poster.email.clone(), job.poster.name.clone())),
        })
        .collect())
}
