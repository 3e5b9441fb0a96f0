//! Builds the reply tree of one article from a flat list, in one pass, lays it out as
//! rows a template can print without recursion, and cuts it into pages of top-level
//! reactions, each with all its replies. Top-level reactions come in the order a
//! reader chose ([`Sort`]); replies always follow their parent in the order posted.
//!
//! Only visible reactions are shown. A hidden reaction (deleted, rejected, ...) with
//! visible replies stays as a tombstone so the thread keeps its shape; no reply is ever
//! dropped or moved to another parent in the data.

/// The deepest indentation; deeper replies are shown at this depth with a
/// "reactie op <naam>" marker.
pub const MAX_DEPTH: usize = 5;

/// Top-level reactions on one page of a thread.
pub const PAGE_SIZE: usize = 50;

/// What the thread builder needs to know of a reaction.
pub trait Threaded {
    fn id(&self) -> i32;
    fn parent_id(&self) -> Option<i32>;
    /// Shown in full (approved, or the viewer's own pending reaction).
    fn is_visible(&self) -> bool;
    /// How many readers found it helpful ("Nuttig"), for [`Sort::Helpful`].
    fn helpful(&self) -> i32 {
        0
    }
}

/// The order of a thread's top-level reactions (`?sorteer=`). Replies are never
/// sorted: they stay in the order they were posted, under their parent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Oldest first (`oud`), the default.
    #[default]
    Oldest,
    /// Newest first (`nieuw`).
    Newest,
    /// Most helpful first, ties oldest first (`nuttig`).
    Helpful,
}

impl Sort {
    /// Every order, as the page offers them.
    pub const ALL: [Self; 3] = [Self::Oldest, Self::Newest, Self::Helpful];

    /// The order a `?sorteer=` value names; an unknown or missing one is the default.
    pub fn from_query(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some("nieuw") => Self::Newest,
            Some("nuttig") => Self::Helpful,
            _ => Self::Oldest,
        }
    }

    /// The `sorteer` value that names this order.
    pub fn as_query(self) -> &'static str {
        match self {
            Self::Oldest => "oud",
            Self::Newest => "nieuw",
            Self::Helpful => "nuttig",
        }
    }

    /// The value a link must carry to keep this order: none for the default, so the
    /// default's addresses stay as they were.
    pub fn in_links(self) -> Option<&'static str> {
        (self != Self::default()).then(|| self.as_query())
    }

    /// Puts `roots` (indices into `items`, oldest first) in this order.
    fn arrange<T: Threaded>(self, roots: &mut [usize], items: &[T]) {
        match self {
            Self::Oldest => {}
            Self::Newest => roots.reverse(),
            // A stable sort: equal counts keep their oldest-first order.
            Self::Helpful => roots.sort_by_key(|&i| std::cmp::Reverse(items[i].helpful())),
        }
    }
}

/// One reaction in the order and at the depth it is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row<T> {
    pub item: T,
    /// 1 for top-level reactions, at most [`MAX_DEPTH`].
    pub depth: usize,
    /// Shown in place of the content when the reaction itself is hidden.
    pub tombstone: bool,
    /// The parent's id when the reply sits deeper than [`MAX_DEPTH`] (the page says
    /// whose reaction it answers).
    pub reply_to: Option<i32>,
    /// Before this row: open a nested list (this is the first reply of the previous row).
    pub open_list: bool,
    /// Before this row: close the previous row's item.
    pub close_item: bool,
    /// Before this row, after closing the previous item: lists (and their items) to close.
    pub close_lists: usize,
}

/// The laid-out thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thread<T> {
    pub rows: Vec<Row<T>>,
    /// After the last row: nested lists to close (after closing its item).
    pub final_close_lists: usize,
}

impl<T> Thread<T> {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many pages of `per_page` top-level reactions the thread fills (at least one).
    pub fn page_count(&self, per_page: usize) -> usize {
        self.root_rows().count().div_ceil(per_page.max(1)).max(1)
    }

    /// The 1-based page that shows the reaction `id`, if it is in the thread.
    pub fn page_of(&self, id: i32, per_page: usize) -> Option<usize>
    where
        T: Threaded,
    {
        let row = self.rows.iter().position(|r| r.item.id() == id)?;
        let roots_before = self.rows[..=row].iter().filter(|r| r.depth == 1).count();
        Some(roots_before.saturating_sub(1) / per_page.max(1) + 1)
    }

    /// Page `page` (1-based): top-level reactions `per_page * (page - 1)` onwards with
    /// all their replies, laid out on their own. `None` past the last page; page 1 of
    /// an empty thread is empty.
    pub fn into_page(self, page: usize, per_page: usize) -> Option<Self> {
        let (skip, take) = self.page_roots(page, per_page)?;
        Some(self.into_roots(skip, take))
    }

    /// [`Thread::into_page`] of a thread that is kept (in a cache): the page's rows are
    /// copied, the rest is left alone.
    pub fn page(&self, page: usize, per_page: usize) -> Option<Self>
    where
        T: Clone,
    {
        let (skip, take) = self.page_roots(page, per_page)?;
        Some(self.roots(skip, take))
    }

    /// [`Thread::into_roots`] of a thread that is kept: the rows are copied.
    pub fn roots(&self, skip: usize, take: usize) -> Self
    where
        T: Clone,
    {
        Self::from_rows(self.rows[self.roots_range(skip, take)].to_vec())
    }

    fn page_roots(&self, page: usize, per_page: usize) -> Option<(usize, usize)> {
        if page == 0 || page > self.page_count(per_page) {
            return None;
        }
        let per_page = per_page.max(1);
        Some((per_page * (page - 1), per_page))
    }

    /// `take` top-level reactions after the first `skip`, with all their replies, laid
    /// out on their own.
    pub fn into_roots(mut self, skip: usize, take: usize) -> Self {
        let range = self.roots_range(skip, take);
        self.rows.truncate(range.end);
        let rows = self.rows.split_off(range.start);
        Self::from_rows(rows)
    }

    /// The rows of `take` top-level reactions after the first `skip`.
    fn roots_range(&self, skip: usize, take: usize) -> std::ops::Range<usize> {
        let mut starts = self.root_rows();
        let start = starts.nth(skip).unwrap_or(self.rows.len());
        let end = if take == 0 {
            start
        } else {
            starts.nth(take - 1).unwrap_or(self.rows.len())
        };
        start..end
    }

    /// Rows cut from a longer thread, laid out on their own.
    fn from_rows(mut rows: Vec<Row<T>>) -> Self {
        if let Some(head) = rows.first_mut() {
            // The first row opens the page: nothing of an earlier page is left to close.
            head.open_list = false;
            head.close_item = false;
            head.close_lists = 0;
        }
        let final_close_lists = rows.last().map_or(0, |r| r.depth - 1);
        Self {
            rows,
            final_close_lists,
        }
    }

    /// How many top-level reactions the thread has.
    pub fn root_count(&self) -> usize {
        self.root_rows().count()
    }

    /// The same layout with every item turned into another.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Thread<U> {
        Thread {
            rows: self
                .rows
                .into_iter()
                .map(|row| Row {
                    item: f(row.item),
                    depth: row.depth,
                    tombstone: row.tombstone,
                    reply_to: row.reply_to,
                    open_list: row.open_list,
                    close_item: row.close_item,
                    close_lists: row.close_lists,
                })
                .collect(),
            final_close_lists: self.final_close_lists,
        }
    }

    /// Indices of the top-level rows.
    fn root_rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.depth == 1)
            .map(|(i, _)| i)
    }
}

/// Lays out `items` (in the order they should appear among siblings, e.g. oldest first).
/// Replies whose parent is missing from `items` are shown at the top level.
pub fn build<T: Threaded>(items: Vec<T>) -> Thread<T> {
    build_sorted(items, Sort::Oldest)
}

/// Lays out `items` (oldest first) with the top-level reactions in `sort`'s order and
/// every reply in posting order under its parent.
pub fn build_sorted<T: Threaded>(items: Vec<T>, sort: Sort) -> Thread<T> {
    // Index arithmetic instead of hash maps: a long thread has thousands of items.
    let mut ids: Vec<(i32, usize)> = items.iter().enumerate().map(|(i, c)| (c.id(), i)).collect();
    ids.sort_unstable();
    let index_of = |id: i32| {
        ids.binary_search_by_key(&id, |&(id, _)| id)
            .ok()
            .map(|at| ids[at].1)
    };
    let parents: Vec<Option<usize>> = items
        .iter()
        .enumerate()
        .map(|(index, item)| item.parent_id().and_then(index_of).filter(|&p| p != index))
        .collect();
    let mut children = Children {
        roots: Vec::new(),
        of: vec![Vec::new(); items.len()],
    };
    for (index, parent) in parents.iter().enumerate() {
        match parent {
            Some(parent) => children.of[*parent].push(index),
            None => children.roots.push(index),
        }
    }
    sort.arrange(&mut children.roots, &items);

    // Which items have something visible at or below them (bottom-up, iteratively).
    let mut shown = vec![false; items.len()];
    let order = depth_first(&children);
    for &(index, _) in order.iter().rev() {
        let below = children.of[index].iter().any(|&k| shown[k]);
        shown[index] = items[index].is_visible() || below;
    }

    let parent_ids: Vec<Option<i32>> = parents
        .iter()
        .map(|p| p.map(|index| items[index].id()))
        .collect();
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let mut rows: Vec<Row<T>> = Vec::new();
    let mut previous_depth = 0;
    for (index, true_depth) in order {
        if !shown[index] {
            continue;
        }
        let depth = true_depth.min(MAX_DEPTH);
        // Each item is laid out once: its slot is always full here.
        let Some(item) = slots[index].take() else {
            debug_assert!(false, "item {index} laid out twice");
            tracing::error!(index, "a thread item was laid out twice; skipped");
            continue;
        };
        let tombstone = !item.is_visible();
        let reply_to = parent_ids[index].filter(|_| true_depth > MAX_DEPTH);
        let (open_list, close_item, close_lists) = if previous_depth == 0 {
            (false, false, 0)
        } else if depth > previous_depth {
            (true, false, 0)
        } else {
            (false, true, previous_depth - depth)
        };
        rows.push(Row {
            item,
            depth,
            tombstone,
            reply_to,
            open_list,
            close_item,
            close_lists,
        });
        previous_depth = depth;
    }
    Thread {
        rows,
        final_close_lists: previous_depth.saturating_sub(1),
    }
}

/// Who answers whom, by index into the items.
struct Children {
    roots: Vec<usize>,
    of: Vec<Vec<usize>>,
}

/// (index, depth) in display order, without recursion so no thread is too deep.
fn depth_first(children: &Children) -> Vec<(usize, usize)> {
    let mut order = Vec::with_capacity(children.of.len());
    let mut stack: Vec<(usize, usize)> = children.roots.iter().rev().map(|&r| (r, 1)).collect();
    let mut seen = vec![false; children.of.len()];
    while let Some((index, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[index], true) {
            continue;
        }
        order.push((index, depth));
        stack.extend(children.of[index].iter().rev().map(|&k| (k, depth + 1)));
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct C {
        id: i32,
        parent: Option<i32>,
        visible: bool,
        helpful: i32,
    }

    impl Threaded for C {
        fn id(&self) -> i32 {
            self.id
        }
        fn parent_id(&self) -> Option<i32> {
            self.parent
        }
        fn is_visible(&self) -> bool {
            self.visible
        }
        fn helpful(&self) -> i32 {
            self.helpful
        }
    }

    fn c(id: i32, parent: Option<i32>) -> C {
        C {
            id,
            parent,
            visible: true,
            helpful: 0,
        }
    }

    fn voted(id: i32, parent: Option<i32>, helpful: i32) -> C {
        C {
            helpful,
            ..c(id, parent)
        }
    }

    fn shape(thread: &Thread<C>) -> Vec<(i32, usize)> {
        thread.rows.iter().map(|r| (r.item.id, r.depth)).collect()
    }

    /// Prints the rows as the template does, to check that the markup nests.
    fn html(thread: &Thread<C>) -> String {
        let mut out = String::from("<ol>");
        for row in &thread.rows {
            if row.open_list {
                out.push_str("<ol>");
            }
            if row.close_item {
                out.push_str("</li>");
            }
            for _ in 0..row.close_lists {
                out.push_str("</ol></li>");
            }
            out.push_str(&format!("<li>{}", row.item.id));
        }
        if !thread.rows.is_empty() {
            out.push_str("</li>");
        }
        for _ in 0..thread.final_close_lists {
            out.push_str("</ol></li>");
        }
        out.push_str("</ol>");
        out
    }

    #[test]
    fn replies_follow_their_parent_depth_first() {
        let thread = build(vec![
            c(1, None),
            c(2, None),
            c(3, Some(1)),
            c(4, Some(3)),
            c(5, Some(2)),
        ]);
        assert_eq!(shape(&thread), vec![(1, 1), (3, 2), (4, 3), (2, 1), (5, 2)]);
        assert_eq!(
            html(&thread),
            "<ol><li>1<ol><li>3<ol><li>4</li></ol></li></ol></li><li>2<ol><li>5</li></ol></li></ol>"
        );
    }

    #[test]
    fn deep_replies_stay_at_depth_five_with_a_marker() {
        let items: Vec<C> = (1..=8).map(|id| c(id, (id > 1).then(|| id - 1))).collect();
        let thread = build(items);
        let depths: Vec<usize> = thread.rows.iter().map(|r| r.depth).collect();
        assert_eq!(depths, vec![1, 2, 3, 4, 5, 5, 5, 5]);
        assert_eq!(thread.rows[4].reply_to, None);
        assert_eq!(thread.rows[5].reply_to, Some(5));
        assert_eq!(thread.rows[6].reply_to, Some(6));
        assert_eq!(
            html(&thread),
            "<ol><li>1<ol><li>2<ol><li>3<ol><li>4<ol><li>5</li><li>6</li><li>7</li><li>8</li></ol></li></ol></li></ol></li></ol></li></ol>"
        );
    }

    #[test]
    fn hidden_reaction_with_visible_replies_becomes_a_tombstone() {
        let thread = build(vec![
            C {
                id: 1,
                parent: None,
                visible: false,
                helpful: 0,
            },
            c(2, Some(1)),
            C {
                id: 3,
                parent: None,
                visible: false,
                helpful: 0,
            },
            C {
                id: 4,
                parent: Some(3),
                visible: false,
                helpful: 0,
            },
        ]);
        assert_eq!(shape(&thread), vec![(1, 1), (2, 2)]);
        assert!(thread.rows[0].tombstone && !thread.rows[1].tombstone);
    }

    #[test]
    fn tombstones_chain_up_to_a_visible_grandchild() {
        let thread = build(vec![
            C {
                id: 1,
                parent: None,
                visible: false,
                helpful: 0,
            },
            C {
                id: 2,
                parent: Some(1),
                visible: false,
                helpful: 0,
            },
            c(3, Some(2)),
        ]);
        assert_eq!(shape(&thread), vec![(1, 1), (2, 2), (3, 3)]);
    }

    #[test]
    fn orphans_and_self_parents_show_at_top_level() {
        let thread = build(vec![c(1, Some(99)), c(2, Some(2))]);
        assert_eq!(shape(&thread), vec![(1, 1), (2, 1)]);
    }

    /// 7 top-level reactions, each of the odd ones with a reply and a reply to that.
    fn seven_roots() -> Thread<C> {
        let mut items = Vec::new();
        for root in 1..=7 {
            items.push(c(root * 10, None));
            if root % 2 == 1 {
                items.push(c(root * 10 + 1, Some(root * 10)));
                items.push(c(root * 10 + 2, Some(root * 10 + 1)));
            }
        }
        build(items)
    }

    #[test]
    fn pages_hold_top_level_reactions_with_all_their_replies() {
        let thread = seven_roots();
        assert_eq!(thread.page_count(3), 3);
        let second = seven_roots().into_page(2, 3).unwrap();
        assert_eq!(
            shape(&second),
            vec![(40, 1), (50, 1), (51, 2), (52, 3), (60, 1)]
        );
        assert_eq!(
            html(&second),
            "<ol><li>40</li><li>50<ol><li>51<ol><li>52</li></ol></li></ol></li><li>60</li></ol>"
        );
        let third = seven_roots().into_page(3, 3).unwrap();
        assert_eq!(shape(&third), vec![(70, 1), (71, 2), (72, 3)]);
        assert_eq!(
            html(&third),
            "<ol><li>70<ol><li>71<ol><li>72</li></ol></li></ol></li></ol>"
        );
        assert_eq!(thread.page(2, 3), seven_roots().into_page(2, 3));
        assert_eq!(thread.page(3, 3), seven_roots().into_page(3, 3));
        assert!(thread.page(4, 3).is_none());
        assert!(seven_roots().into_page(4, 3).is_none());
        assert!(seven_roots().into_page(0, 3).is_none());
    }

    #[test]
    fn a_reply_is_found_on_the_page_of_its_top_level_reaction() {
        let thread = seven_roots();
        assert_eq!(thread.page_of(10, 3), Some(1));
        assert_eq!(thread.page_of(52, 3), Some(2));
        assert_eq!(thread.page_of(60, 3), Some(2));
        assert_eq!(thread.page_of(72, 3), Some(3));
        assert_eq!(thread.page_of(99, 3), None);
    }

    #[test]
    fn an_empty_thread_has_one_empty_page() {
        let thread = build(Vec::<C>::new());
        assert_eq!(thread.page_count(PAGE_SIZE), 1);
        assert!(
            build(Vec::<C>::new())
                .into_page(1, PAGE_SIZE)
                .unwrap()
                .is_empty()
        );
        assert!(thread.into_page(2, PAGE_SIZE).is_none());
    }

    #[test]
    fn empty_thread() {
        let thread = build(Vec::<C>::new());
        assert!(thread.is_empty());
        assert_eq!(html(&thread), "<ol></ol>");
    }

    /// Three top-level reactions (oldest first) with replies posted in between.
    fn voted_thread() -> Vec<C> {
        vec![
            voted(1, None, 2),
            voted(2, None, 5),
            voted(3, Some(1), 9),
            voted(4, None, 2),
            voted(5, Some(2), 0),
            voted(6, Some(3), 1),
            voted(7, Some(2), 3),
            voted(8, None, 0),
        ]
    }

    #[test]
    fn oldest_first_is_the_order_posted() {
        let thread = build_sorted(voted_thread(), Sort::Oldest);
        assert_eq!(
            shape(&thread),
            vec![
                (1, 1),
                (3, 2),
                (6, 3),
                (2, 1),
                (5, 2),
                (7, 2),
                (4, 1),
                (8, 1)
            ]
        );
        assert_eq!(thread, build(voted_thread()));
    }

    #[test]
    fn newest_first_turns_only_the_top_level_around() {
        let thread = build_sorted(voted_thread(), Sort::Newest);
        assert_eq!(
            shape(&thread),
            vec![
                (8, 1),
                (4, 1),
                (2, 1),
                (5, 2),
                (7, 2),
                (1, 1),
                (3, 2),
                (6, 3)
            ]
        );
        assert_eq!(
            html(&thread),
            "<ol><li>8</li><li>4</li><li>2<ol><li>5</li><li>7</li></ol></li><li>1<ol><li>3<ol><li>6</li></ol></li></ol></li></ol>"
        );
    }

    #[test]
    fn most_helpful_first_with_ties_oldest_first_and_replies_in_order() {
        let thread = build_sorted(voted_thread(), Sort::Helpful);
        // 2 has 5 votes; 1 and 4 tie at 2 (1 is older); 8 has none. The replies' own
        // votes (3 has 9) move nothing: they stay under their parent, oldest first.
        assert_eq!(
            shape(&thread),
            vec![
                (2, 1),
                (5, 2),
                (7, 2),
                (1, 1),
                (3, 2),
                (6, 3),
                (4, 1),
                (8, 1)
            ]
        );
        assert_eq!(thread.page_of(6, 2), Some(1));
        assert_eq!(thread.page_of(4, 2), Some(2));
        let second = thread.page(2, 2).unwrap();
        assert_eq!(shape(&second), vec![(4, 1), (8, 1)]);
    }

    #[test]
    fn sort_values_are_read_leniently_and_the_default_adds_nothing() {
        assert_eq!(Sort::from_query(None), Sort::Oldest);
        assert_eq!(Sort::from_query(Some("oud")), Sort::Oldest);
        assert_eq!(Sort::from_query(Some("nieuw")), Sort::Newest);
        assert_eq!(Sort::from_query(Some("nuttig")), Sort::Helpful);
        assert_eq!(Sort::from_query(Some("NUTTIG!")), Sort::Oldest);
        assert_eq!(Sort::from_query(Some("")), Sort::Oldest);
        for sort in Sort::ALL {
            assert_eq!(Sort::from_query(Some(sort.as_query())), sort);
        }
        assert_eq!(Sort::Oldest.in_links(), None);
        assert_eq!(Sort::Newest.in_links(), Some("nieuw"));
        assert_eq!(Sort::Helpful.in_links(), Some("nuttig"));
    }
}
