//! Builds the reply tree of one article from a flat list, in one pass, and lays it out
//! as rows a template can print without recursion.
//!
//! Only visible reactions are shown. A hidden reaction (deleted, rejected, ...) with
//! visible replies stays as a tombstone so the thread keeps its shape; no reply is ever
//! dropped or moved to another parent in the data.

use std::collections::HashMap;

/// The deepest indentation; deeper replies are shown at this depth with a
/// "reactie op <naam>" marker.
pub const MAX_DEPTH: usize = 5;

/// What the thread builder needs to know of a reaction.
pub trait Threaded {
    fn id(&self) -> i32;
    fn parent_id(&self) -> Option<i32>;
    fn author_name(&self) -> &str;
    /// Shown in full (approved, or the viewer's own pending reaction).
    fn is_visible(&self) -> bool;
}

/// One reaction in the order and at the depth it is shown.
#[derive(Debug, PartialEq, Eq)]
pub struct Row<T> {
    pub item: T,
    /// 1 for top-level reactions, at most [`MAX_DEPTH`].
    pub depth: usize,
    /// Shown in place of the content when the reaction itself is hidden.
    pub tombstone: bool,
    /// The parent's name when the reply sits deeper than [`MAX_DEPTH`].
    pub reply_to: Option<String>,
    /// Before this row: open a nested list (this is the first reply of the previous row).
    pub open_list: bool,
    /// Before this row: close the previous row's item.
    pub close_item: bool,
    /// Before this row, after closing the previous item: lists (and their items) to close.
    pub close_lists: usize,
}

/// The laid-out thread.
#[derive(Debug, PartialEq, Eq)]
pub struct Thread<T> {
    pub rows: Vec<Row<T>>,
    /// After the last row: nested lists to close (after closing its item).
    pub final_close_lists: usize,
}

impl<T> Thread<T> {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Lays out `items` (in the order they should appear among siblings, e.g. oldest first).
/// Replies whose parent is missing from `items` are shown at the top level.
pub fn build<T: Threaded>(items: Vec<T>) -> Thread<T> {
    let ids: HashMap<i32, usize> = items.iter().enumerate().map(|(i, c)| (c.id(), i)).collect();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        let parent = item
            .parent_id()
            .and_then(|p| ids.get(&p).copied())
            .filter(|&p| p != index);
        children.entry(parent).or_default().push(index);
    }

    // Which items have something visible at or below them (bottom-up, iteratively).
    let mut shown = vec![false; items.len()];
    let order = depth_first(&children);
    for &(index, _) in order.iter().rev() {
        let below = children
            .get(&Some(index))
            .is_some_and(|kids| kids.iter().any(|&k| shown[k]));
        shown[index] = items[index].is_visible() || below;
    }

    let names: Vec<String> = items.iter().map(|c| c.author_name().to_owned()).collect();
    let parents: Vec<Option<usize>> = items
        .iter()
        .map(|c| c.parent_id().and_then(|p| ids.get(&p).copied()))
        .collect();
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let mut rows: Vec<Row<T>> = Vec::new();
    let mut previous_depth = 0;
    for (index, true_depth) in order {
        if !shown[index] {
            continue;
        }
        let depth = true_depth.min(MAX_DEPTH);
        let item = slots[index].take().expect("each item is laid out once");
        let tombstone = !item.is_visible();
        let reply_to = (true_depth > MAX_DEPTH)
            .then(|| parents[index].map(|p| names[p].clone()))
            .flatten();
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

/// (index, depth) in display order, without recursion so no thread is too deep.
fn depth_first(children: &HashMap<Option<usize>, Vec<usize>>) -> Vec<(usize, usize)> {
    let mut order = Vec::new();
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|&r| (r, 1)).collect())
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    while let Some((index, depth)) = stack.pop() {
        if !seen.insert(index) {
            continue;
        }
        order.push((index, depth));
        if let Some(kids) = children.get(&Some(index)) {
            stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    struct C {
        id: i32,
        parent: Option<i32>,
        visible: bool,
    }

    impl Threaded for C {
        fn id(&self) -> i32 {
            self.id
        }
        fn parent_id(&self) -> Option<i32> {
            self.parent
        }
        fn author_name(&self) -> &str {
            if self.id == 5 { "Vijf" } else { "Iemand" }
        }
        fn is_visible(&self) -> bool {
            self.visible
        }
    }

    fn c(id: i32, parent: Option<i32>) -> C {
        C {
            id,
            parent,
            visible: true,
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
        assert_eq!(thread.rows[5].reply_to.as_deref(), Some("Vijf"));
        assert_eq!(thread.rows[6].reply_to.as_deref(), Some("Iemand"));
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
            },
            c(2, Some(1)),
            C {
                id: 3,
                parent: None,
                visible: false,
            },
            C {
                id: 4,
                parent: Some(3),
                visible: false,
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
            },
            C {
                id: 2,
                parent: Some(1),
                visible: false,
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

    #[test]
    fn empty_thread() {
        let thread = build(Vec::<C>::new());
        assert!(thread.is_empty());
        assert_eq!(html(&thread), "<ol></ol>");
    }
}
