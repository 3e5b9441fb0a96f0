//! Rendered public pages kept in memory, rendered once per change of what they show.
//!
//! A page is rendered with placeholders ("holes") where each visitor's own values go
//! (the CSRF token, the form's served-at token), split at those holes, and kept both
//! plain and as pre-compressed deflate parts. Serving it fills the holes: the plain
//! body is the parts and the values joined; the gzip body is the compressed parts with
//! the values between them as stored deflate blocks, one valid gzip stream, so no
//! request compresses the page again.
//!
//! Entries record the version of what they show ([`Scope`]) at the moment their reads
//! began; a writer bumps that version after its commit and before it answers, so a
//! stale entry is never served once the change is acknowledged. The cache holds a
//! bounded number of bytes and drops the least recently used entries beyond that.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    io,
    pin::Pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Instant,
};

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress, Status};
use http_body_util::combinators::BoxBody;
use poem::{
    Body, Request, Response,
    http::{StatusCode, header},
};

use crate::{
    domain::thread::{self, PAGE_SIZE, Sort},
    entity::articles,
    security,
    store::{Snapshot, Versions},
    web::threads::{Laid, Slot},
};

/// How many bytes of rendered pages (plain and compressed) the cache keeps at most.
pub const DEFAULT_BUDGET: usize = 16 << 20;

/// What a cached entry is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// An article's thread index, by slug and order. An article's change retires all
    /// its orders at once: they are kept under the same article version.
    Thread(String, Sort),
    /// One page of an article, by slug, 1-based page number and order.
    ArticlePage(String, usize, Sort),
    /// The front page, after this cursor (none: the first page).
    Home(Option<String>),
    /// A page of `/reacties`, the newest reactions across the site (1-based).
    Recent(u64),
    /// The API's reaction tree of an article: slug, cursor, top-level reactions.
    ApiTree(String, Option<String>, usize),
}

/// A per-visitor value a rendered page leaves open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hole {
    /// The browser's CSRF token.
    Csrf,
    /// A fresh signed "form served at" token.
    FormToken,
}

/// The placeholders a page is rendered with. They are random per process, so no text a
/// reader posts can imitate one.
#[derive(Clone, Debug)]
pub struct Holes {
    csrf: String,
    form_token: String,
}

impl Holes {
    pub fn new() -> Self {
        // Only letters and digits: templates print them as they are.
        let random = || hex::encode(security::random_token().as_bytes());
        Self {
            csrf: format!("kantlijncsrf{}", random()),
            form_token: format!("kantlijnform{}", random()),
        }
    }

    /// What to render in place of the CSRF token.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// What to render in place of the form token.
    pub fn form_token(&self) -> &str {
        &self.form_token
    }

    fn find(&self, html: &str) -> Option<(usize, usize, Hole)> {
        [
            (&self.csrf, Hole::Csrf),
            (&self.form_token, Hole::FormToken),
        ]
        .into_iter()
        .filter_map(|(marker, hole)| {
            html.find(marker.as_str())
                .map(|at| (at, marker.len(), hole))
        })
        .min_by_key(|(at, _, _)| *at)
    }
}

impl Default for Holes {
    fn default() -> Self {
        Self::new()
    }
}

/// A rendered page, split at its holes, plain and compressed.
#[derive(Debug)]
pub struct Rendered {
    parts: Vec<Part>,
    holes: Vec<Hole>,
    /// A hash of everything shared, for the ETag.
    digest: String,
    content_type: &'static str,
    /// How long rendering took, for `Server-Timing`.
    pub render_ms: f64,
}

#[derive(Debug)]
struct Part {
    plain: Bytes,
    /// Raw deflate of `plain`, ended by a sync flush (byte-aligned, not final).
    deflated: Bytes,
    crc: crc32fast::Hasher,
}

/// The values one visitor gets in the holes.
pub struct Fills<'a> {
    pub csrf: &'a str,
    pub form_token: &'a str,
}

impl Fills<'_> {
    fn get(&self, hole: Hole) -> &str {
        match hole {
            Hole::Csrf => self.csrf,
            Hole::FormToken => self.form_token,
        }
    }
}

impl Rendered {
    /// Splits `html` at the holes and compresses the parts.
    pub fn new(html: &str, holes: &Holes, content_type: &'static str) -> Self {
        let mut parts = Vec::new();
        let mut found = Vec::new();
        let mut rest = html;
        while let Some((at, len, hole)) = holes.find(rest) {
            parts.push(Part::new(&rest.as_bytes()[..at]));
            found.push(hole);
            rest = &rest[at + len..];
        }
        parts.push(Part::new(rest.as_bytes()));
        // The parts' CRCs (made for the gzip trailer anyway) and the length: a change
        // of content that keeps both is not a worry for an ETag.
        let mut crc = crc32fast::Hasher::new();
        let mut length = 0;
        for part in &parts {
            crc.combine(&part.crc);
            length += part.plain.len();
        }
        Self {
            parts,
            holes: found,
            digest: format!("{:08x}-{length:x}", crc.finalize()),
            content_type,
            render_ms: 0.0,
        }
    }

    /// The same page, noting how long it took to make in all.
    pub fn took(mut self, render_ms: f64) -> Self {
        self.render_ms = render_ms;
        self
    }

    /// Bytes held, for the cache's budget.
    pub fn size(&self) -> usize {
        self.parts
            .iter()
            .map(|p| p.plain.len() + p.deflated.len())
            .sum::<usize>()
            + 256
    }

    /// The page for one visitor: 304 when their copy is current, gzip when they take it.
    pub fn respond(&self, req: &Request, fills: &Fills<'_>, cached: bool) -> Response {
        let etag = self.etag(fills);
        let timing = if cached {
            "cache;desc=hit".to_owned()
        } else {
            format!("render;dur={:.2}", self.render_ms)
        };
        let builder = Response::builder()
            .header(header::ETAG, etag.as_str())
            .header(header::CACHE_CONTROL, "private, no-cache")
            .header(header::VARY, "Accept-Encoding, Cookie")
            .header("server-timing", timing);
        if if_none_match(req, &etag) {
            return builder.status(StatusCode::NOT_MODIFIED).finish();
        }
        let builder = builder.content_type(self.content_type);
        if accepts_gzip(req) {
            builder
                .header(header::CONTENT_ENCODING, "gzip")
                .body(self.gzip(fills))
        } else {
            builder.body(self.plain(fills))
        }
    }

    /// A weak ETag: the shared content and what this visitor's holes depend on (their
    /// CSRF token; a fresh form token does not make the page a different one).
    fn etag(&self, fills: &Fills<'_>) -> String {
        if self.holes.contains(&Hole::Csrf) {
            let visitor = &security::token_hash(fills.csrf)[..12];
            format!("W/\"{}-{visitor}\"", self.digest)
        } else {
            format!("W/\"{}\"", self.digest)
        }
    }

    /// The page as chunks: the shared parts are handed out, not copied.
    fn plain(&self, fills: &Fills<'_>) -> Chunks {
        let mut chunks = Chunks::default();
        for (index, part) in self.parts.iter().enumerate() {
            chunks.push(part.plain.clone());
            if let Some(&hole) = self.holes.get(index) {
                chunks.push(Bytes::copy_from_slice(fills.get(hole).as_bytes()));
            }
        }
        chunks
    }

    /// One gzip member: header, the parts' deflate with each hole as a stored block,
    /// an empty final block, and the CRC and length of the whole (RFC 1951, 1952).
    fn gzip(&self, fills: &Fills<'_>) -> Chunks {
        const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        const FINAL_EMPTY_STORED: [u8; 5] = [0x01, 0x00, 0x00, 0xff, 0xff];
        let mut chunks = Chunks::default();
        chunks.push(Bytes::from_static(&HEADER));
        let mut crc = crc32fast::Hasher::new();
        let mut length: u64 = 0;
        for (index, part) in self.parts.iter().enumerate() {
            chunks.push(part.deflated.clone());
            crc.combine(&part.crc);
            length += part.plain.len() as u64;
            if let Some(&hole) = self.holes.get(index) {
                let value = fills.get(hole).as_bytes();
                chunks.push(Bytes::from(stored_blocks(value)));
                crc.update(value);
                length += value.len() as u64;
            }
        }
        let mut tail = Vec::with_capacity(13);
        tail.extend_from_slice(&FINAL_EMPTY_STORED);
        tail.extend_from_slice(&crc.finalize().to_le_bytes());
        // ISIZE is the length modulo 2^32 by definition.
        tail.extend_from_slice(&(length as u32).to_le_bytes());
        chunks.push(Bytes::from(tail));
        chunks
    }
}

/// A response body of chunks written as they are (vectored), with an exact length.
#[derive(Default)]
pub struct Chunks {
    chunks: VecDeque<Bytes>,
    remaining: u64,
}

impl Chunks {
    fn push(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.remaining += chunk.len() as u64;
            self.chunks.push_back(chunk);
        }
    }

    /// Everything joined (for tests).
    #[cfg(test)]
    fn concat(self) -> Vec<u8> {
        self.chunks.into_iter().flatten().collect()
    }
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        let next = self.chunks.pop_front().map(|chunk| {
            self.remaining -= chunk.len() as u64;
            Ok(http_body::Frame::data(chunk))
        });
        Poll::Ready(next)
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

impl From<Chunks> for Body {
    fn from(chunks: Chunks) -> Self {
        Body::from(BoxBody::new(chunks))
    }
}

/// `data` as stored (uncompressed) deflate blocks: BFINAL 0, BTYPE 00, LEN, NLEN, data.
fn stored_blocks(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / 65_535 + 1));
    for chunk in data.chunks(u16::MAX as usize) {
        let len = chunk.len() as u16;
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

impl Part {
    fn new(plain: &[u8]) -> Self {
        let mut crc = crc32fast::Hasher::new();
        crc.update(plain);
        Self {
            deflated: Bytes::from(deflate_part(plain).unwrap_or_else(|_| stored_blocks(plain))),
            plain: Bytes::copy_from_slice(plain),
            crc,
        }
    }
}

/// Raw deflate of `data`, ended by a sync flush so another block can follow.
fn deflate_part(data: &[u8]) -> io::Result<Vec<u8>> {
    // The fastest level: a long thread's page compresses in a quarter of the time of
    // the default, at a fifth more bytes, and this runs while a reader waits.
    let mut compress = Compress::new(Compression::fast(), false);
    let mut out = Vec::with_capacity(data.len() / 3 + 1024);
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let before = compress.total_in();
        let status = compress
            .compress_vec(input, &mut out, FlushCompress::Sync)
            .map_err(io::Error::other)?;
        input = &input[(compress.total_in() - before) as usize..];
        // Done once all input is in and the flush did not run out of room.
        if input.is_empty() && out.len() < out.capacity() && status != Status::BufError {
            return Ok(out);
        }
    }
}

/// Whether the request's `If-None-Match` names `etag` (weak comparison).
fn if_none_match(req: &Request, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = bare(etag);
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || bare(tag) == ours)
}

/// Whether the client takes gzip (`Accept-Encoding`, with `q=0` meaning no).
pub fn accepts_gzip(req: &Request) -> bool {
    accepts(req, "gzip")
}

/// Whether `Accept-Encoding` allows `coding`.
pub fn accepts(req: &Request, coding: &str) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut pieces = item.split(';');
            let name = pieces.next().unwrap_or("").trim();
            let refused = pieces.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

/// A cached value.
#[derive(Clone, Debug)]
pub enum Value {
    Thread(Arc<ThreadIndex>),
    Page(Arc<Rendered>),
}

impl Value {
    fn size(&self) -> usize {
        match self {
            Self::Thread(index) => index.size(),
            Self::Page(page) => page.size(),
        }
    }
}

/// An article and its laid-out public thread, kept so that a view of any page needs no
/// layout of its own, and a page not rendered yet only reads the reactions it shows.
#[derive(Debug)]
pub struct ThreadIndex {
    pub article: Arc<articles::Model>,
    pub laid: Laid,
    /// The article's version this was read at.
    pub made: Snapshot,
}

impl ThreadIndex {
    pub fn new(article: articles::Model, laid: Laid, made: Snapshot) -> Self {
        Self {
            article: Arc::new(article),
            laid,
            made,
        }
    }

    /// How many pages the thread fills.
    pub fn pages(&self) -> usize {
        self.laid.thread.page_count(PAGE_SIZE)
    }

    /// The page that shows reaction `id`.
    pub fn page_of(&self, id: i32) -> Option<usize> {
        self.laid.thread.page_of(id, PAGE_SIZE)
    }

    fn size(&self) -> usize {
        self.article.body_html.len()
            + self.article.body_md.len()
            + self.article.title.len()
            + self.article.summary.len()
            + self.laid.thread.rows.len() * std::mem::size_of::<thread::Row<Slot>>()
            + 512
    }
}

struct Entry {
    value: Value,
    made: Snapshot,
    size: usize,
    tick: u64,
}

#[derive(Default)]
struct Lru {
    entries: HashMap<Key, Entry>,
    order: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
}

/// The cache of rendered pages (see the module docs).
pub struct PageCache {
    lru: Mutex<Lru>,
    holes: Holes,
    budget: usize,
    created: Instant,
    /// When freed memory was last handed back (ms since `created`).
    last_release: AtomicU64,
    /// Article ids by slug, learnt from reads of published articles (so bounded by
    /// them); a hint to check, never trusted as it is.
    ids: Mutex<HashMap<String, i32>>,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl PageCache {
    pub fn new(budget: usize) -> Self {
        Self {
            lru: Mutex::new(Lru::default()),
            holes: Holes::new(),
            budget,
            created: Instant::now(),
            last_release: AtomicU64::new(0),
            ids: Mutex::default(),
        }
    }

    /// The id last seen behind `slug`.
    pub fn article_id(&self, slug: &str) -> Option<i32> {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(slug)
            .copied()
    }

    pub fn remember_article_id(&self, slug: &str, id: i32) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(slug.to_owned(), id);
    }

    pub fn forget_article_id(&self, slug: &str) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(slug);
    }

    pub fn holes(&self) -> &Holes {
        &self.holes
    }

    /// The entry for `key` when it is still current.
    pub fn get(&self, key: &Key, versions: &Versions) -> Option<Value> {
        let mut lru = self.lock();
        let entry = lru.entries.get(key)?;
        if !versions.is_current(entry.made) {
            let stale = lru.entries.remove(key)?;
            lru.order.remove(&stale.tick);
            lru.bytes -= stale.size;
            return None;
        }
        let old_tick = entry.tick;
        lru.tick += 1;
        let tick = lru.tick;
        if let Some(key) = lru.order.remove(&old_tick) {
            lru.order.insert(tick, key);
        }
        let entry = lru.entries.get_mut(key)?;
        entry.tick = tick;
        Some(entry.value.clone())
    }

    /// Keeps `value`, made from `made`, unless its scope has moved on meanwhile (then it
    /// is stale already).
    pub fn put(&self, key: Key, value: Value, made: Snapshot, versions: &Versions) {
        let size = value.size();
        if size > self.budget / 4 {
            return;
        }
        let mut lru = self.lock();
        if !versions.is_current(made) {
            return;
        }
        if let Some(old) = lru.entries.remove(&key) {
            lru.order.remove(&old.tick);
            lru.bytes -= old.size;
        }
        lru.tick += 1;
        let tick = lru.tick;
        lru.order.insert(tick, key.clone());
        lru.entries.insert(
            key,
            Entry {
                value,
                made,
                size,
                tick,
            },
        );
        lru.bytes += size;
        let mut evicted = false;
        while lru.bytes > self.budget {
            let Some((_, oldest)) = lru.order.pop_first() else {
                break;
            };
            if let Some(gone) = lru.entries.remove(&oldest) {
                lru.bytes -= gone.size;
                evicted = true;
            }
        }
        drop(lru);
        if evicted {
            self.release_freed();
        }
    }

    /// Hands memory freed by evictions back to the operating system, at most once a
    /// second. The allocator keeps what is freed; a cache that keeps replacing pages
    /// of tens of KB leaves it fragmented, and the process grew to several times what
    /// the cache holds.
    fn release_freed(&self) {
        let now = self.created.elapsed().as_millis() as u64;
        let last = self.last_release.load(Ordering::Relaxed);
        if now.saturating_sub(last) < 1000
            || self
                .last_release
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim walks glibc's own free lists and returns whole free pages
        // to the kernel; it has no preconditions and touches no memory in use.
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// Renders `body` into a kept page (see [`PageCache::put`]), noting how long making
    /// it took since `started`.
    pub fn keep(
        &self,
        key: Key,
        body: &str,
        content_type: &'static str,
        made: Snapshot,
        versions: &Versions,
        started: Instant,
    ) -> Arc<Rendered> {
        let rendered = Rendered::new(body, &self.holes, content_type)
            .took(started.elapsed().as_secs_f64() * 1000.0);
        let rendered = Arc::new(rendered);
        self.put(key, Value::Page(Arc::clone(&rendered)), made, versions);
        rendered
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        self.lru.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `Content-Type` of the pages.
pub const HTML: &str = "text/html; charset=utf-8";

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::store::Scope;

    fn page(holes: &Holes) -> String {
        let mut html = String::from("<!doctype html><title>x</title>");
        for n in 0..2000 {
            html.push_str(&format!("<p>Reactie {n}: het Lerarenportfolio.</p>"));
            if n == 10 {
                html.push_str(&format!(
                    "<input name=csrf_token value=\"{}\">",
                    holes.csrf()
                ));
            }
            if n == 1500 {
                html.push_str(&format!(
                    "<input name=form_token value=\"{}\">",
                    holes.form_token()
                ));
                html.push_str(&format!(
                    "<input name=csrf_token value=\"{}\">",
                    holes.csrf()
                ));
            }
        }
        html
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut out = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut out)
            .expect("a valid gzip stream");
        out
    }

    #[test]
    fn holes_are_filled_alike_in_plain_and_gzip() {
        let holes = Holes::new();
        let html = page(&holes);
        let rendered = Rendered::new(&html, &holes, HTML);
        assert_eq!(
            rendered.holes,
            vec![Hole::Csrf, Hole::FormToken, Hole::Csrf]
        );
        let fills = Fills {
            csrf: "TOKEN-A",
            form_token: "served-123.sig",
        };
        let expected = html
            .replace(holes.csrf(), "TOKEN-A")
            .replace(holes.form_token(), "served-123.sig");
        let plain = String::from_utf8(rendered.plain(&fills).concat()).unwrap();
        assert_eq!(plain, expected);
        let gzip = rendered.gzip(&fills).concat();
        assert_eq!(gunzip(&gzip), expected);
        assert!(
            gzip.len() < expected.len() / 4,
            "{} of {}",
            gzip.len(),
            expected.len()
        );
    }

    #[test]
    fn a_page_without_holes_and_empty_fills_still_make_valid_gzip() {
        let holes = Holes::new();
        let rendered = Rendered::new("<p>Geen formulier</p>", &holes, HTML);
        let fills = Fills {
            csrf: "",
            form_token: "",
        };
        assert_eq!(
            gunzip(&rendered.gzip(&fills).concat()),
            "<p>Geen formulier</p>"
        );
        let empty = Rendered::new(holes.csrf(), &holes, HTML);
        assert_eq!(gunzip(&empty.gzip(&fills).concat()), "");
        assert_eq!(
            gunzip(
                &empty
                    .gzip(&Fills {
                        csrf: "abc",
                        form_token: ""
                    })
                    .concat()
            ),
            "abc"
        );
    }

    #[test]
    fn the_etag_follows_the_content_and_the_visitor_not_the_form_token() {
        let holes = Holes::new();
        let one = Rendered::new(&page(&holes), &holes, HTML);
        let other = Rendered::new(
            &page(&holes).replace("Reactie 7:", "Reactie zeven:"),
            &holes,
            HTML,
        );
        let fills = |csrf, form_token| Fills { csrf, form_token };
        assert_eq!(one.etag(&fills("a", "1")), one.etag(&fills("a", "2")));
        assert_ne!(one.etag(&fills("a", "1")), one.etag(&fills("b", "1")));
        assert_ne!(one.etag(&fills("a", "1")), other.etag(&fills("a", "1")));
        assert!(one.etag(&fills("a", "1")).starts_with("W/\""));
    }

    #[test]
    fn stale_entries_are_dropped_and_the_budget_holds() {
        let holes = Holes::new();
        let versions = Versions::default();
        let cache = PageCache::new(4 * 10_000);
        let value = |text: &str| Value::Page(Arc::new(Rendered::new(text, &holes, HTML)));
        let key = Key::ArticlePage("a".into(), 1, Sort::Oldest);
        let made = versions.snapshot(Scope::Article(1));
        cache.put(key.clone(), value("<p>een</p>"), made, &versions);
        assert!(cache.get(&key, &versions).is_some());
        versions.article_changed(1);
        assert!(
            cache.get(&key, &versions).is_none(),
            "a change retires the page"
        );
        // Rendered before the change, stored after it: never kept.
        cache.put(key.clone(), value("<p>oud</p>"), made, &versions);
        assert!(cache.get(&key, &versions).is_none());
        for n in 0..50 {
            let made = versions.snapshot(Scope::Article(n));
            cache.put(
                Key::ArticlePage(format!("s{n}"), 1, Sort::Oldest),
                value(&"x".repeat(2_000)),
                made,
                &versions,
            );
        }
        assert!(cache.bytes() <= 4 * 10_000, "{} bytes", cache.bytes());
        assert!(
            cache
                .get(&Key::ArticlePage("s49".into(), 1, Sort::Oldest), &versions)
                .is_some(),
            "the newest stays"
        );
        assert!(
            cache
                .get(&Key::ArticlePage("s0".into(), 1, Sort::Oldest), &versions)
                .is_none(),
            "the oldest went"
        );
    }

    #[test]
    fn accept_encoding_is_read_with_its_q_values() {
        let req = |value: &str| {
            Request::builder()
                .header(header::ACCEPT_ENCODING, value)
                .finish()
        };
        assert!(accepts_gzip(&req("gzip, deflate, br")));
        assert!(accepts_gzip(&req("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&req("gzip;q=0, br")));
        assert!(!accepts_gzip(&req("identity")));
        assert!(!accepts_gzip(&Request::builder().finish()));
    }
}
