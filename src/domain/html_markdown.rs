//! Imported comment HTML to Markdown source.
//!
//! WordPress stores a comment as raw text with a small HTML subset and shows it through
//! "autop" (a blank line starts a paragraph, a single newline is a `<br>`); Disqus
//! exports messages as HTML. [`html_to_markdown`] turns either into the Markdown that
//! the reaction renderer reads. The tags that have a Markdown form are converted; every
//! other tag, comment or declaration is kept as escaped text, so the reader sees it as
//! it was written and no word is lost. Text is escaped so that it stays text.
//!
//! The HTML is read by a small forgiving tokenizer that never backtracks (a tag left
//! open at the end of the input makes the rest plain text), into a tree whose depth is
//! capped at [`MAX_DEPTH`]: deeper elements are flattened into the deepest one kept, so
//! the rendering recursion is bounded.

use std::collections::HashMap;

/// How deep elements may nest; deeper ones are flattened into the deepest one kept.
const MAX_DEPTH: usize = 64;

/// A CommonMark hard line break: a backslash at the end of a line. Every newline in
/// inline Markdown built here is one, so a `\n` is always preceded by this backslash.
const HARD_BREAK: &str = "\\\n";

/// The characters escaped wherever they appear in text.
const ESCAPED: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '>', '#', '~', '&', '|'];

/// The largest HTML that is converted. Some shapes of markup (thousands of empty `<code>`
/// after line breaks) take time that grows with the square of their length; a comment
/// this large is no comment a person wrote, and is kept whole as its source instead.
pub const MAX_CONVERTED_BYTES: usize = 128 * 1024;

/// The Markdown source of an imported comment's HTML (WordPress's comment subset,
/// Disqus's messages); what has no Markdown form is kept as escaped text.
pub fn html_to_markdown(html: &str) -> String {
    if html.len() > MAX_CONVERTED_BYTES {
        return verbatim(html);
    }
    // As an HTML parser reads them: CR LF and CR are newlines, NUL is U+FFFD.
    let html = html
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\0', "\u{FFFD}");
    let tree = Tree::parse(&html);
    let renderer = Renderer::new(&tree);
    let children = match &tree.nodes[0] {
        Node::Element { children, .. } => children.as_slice(),
        Node::Text(_) => &[],
    };
    renderer.blocks(children, false).trim().to_owned()
}

// ---------------------------------------------------------------------------------
// The tree

/// What an element becomes in Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tag {
    Root,
    /// `p`, `div`, `address` and a `li` outside any list: a paragraph boundary.
    Para,
    Br,
    Hr,
    Strong,
    /// `em`, `i` and `cite`.
    Em,
    Del,
    Code,
    Pre,
    Blockquote,
    /// `a`, with its non-empty `href`.
    Link(Option<String>),
    /// `ul` (`None`) or `ol` with its start number.
    List(Option<u64>),
    Item,
    Heading(usize),
    Q,
    /// `abbr` and `acronym`, with a non-empty `title`.
    Abbr(Option<String>),
    /// Elements whose text is kept without any mark.
    Span,
}

impl Tag {
    /// The tag for an element name (lowercase), or `None` when it has no Markdown form.
    fn from_name(name: &str, attrs: &[(String, String)]) -> Option<Self> {
        let attr = |wanted: &str| {
            attrs
                .iter()
                .find(|(n, _)| n == wanted)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Some(match name {
            "p" | "div" | "address" => Self::Para,
            "br" => Self::Br,
            "hr" => Self::Hr,
            "strong" | "b" => Self::Strong,
            "em" | "i" | "cite" => Self::Em,
            "del" | "s" | "strike" => Self::Del,
            "code" => Self::Code,
            "pre" => Self::Pre,
            "blockquote" => Self::Blockquote,
            "a" => Self::Link(attr("href")),
            "ul" => Self::List(None),
            "ol" => Self::List(Some(
                attr("start")
                    .and_then(|s| s.parse::<i64>().ok())
                    .map_or(1, |s| s.clamp(0, 999_999_000).unsigned_abs()),
            )),
            "li" => Self::Item,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                Self::Heading(usize::from(name.as_bytes()[1] - b'0'))
            }
            "q" => Self::Q,
            "abbr" | "acronym" => Self::Abbr(attr("title")),
            "ins" | "u" | "big" | "small" | "span" | "font" | "kbd" | "var" | "sup" | "sub" => {
                Self::Span
            }
            _ => return None,
        })
    }

    /// Whether the element is a block: it ends the paragraph before it.
    fn is_block(&self) -> bool {
        matches!(
            self,
            Self::Root
                | Self::Para
                | Self::Hr
                | Self::Pre
                | Self::Blockquote
                | Self::List(_)
                | Self::Item
                | Self::Heading(_)
        )
    }
}

enum Node {
    /// Decoded text, or the raw text of markup kept as text.
    Text(String),
    Element {
        tag: Tag,
        children: Vec<usize>,
    },
}

impl Node {
    fn element(tag: Tag) -> Self {
        Self::Element {
            tag,
            children: Vec::new(),
        }
    }
}

/// The parsed comment: `nodes[0]` is the root; a child always comes after its parent.
struct Tree {
    nodes: Vec<Node>,
    /// The open elements: node index and element name; the root is first.
    open: Vec<(usize, String)>,
    /// How many start tags of each name were flattened, to ignore as many end tags.
    flattened: HashMap<String, usize>,
}

/// One piece of markup found at a `<`.
enum Markup {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End {
        name: String,
    },
    /// A comment, declaration or processing instruction: kept as text.
    Comment,
    /// A tag or comment left open at the end of the input.
    Unclosed,
    /// A `<` that starts no markup, like in `a < b`.
    Stray,
}

impl Tree {
    fn parse(html: &str) -> Self {
        let mut tree = Self {
            nodes: vec![Node::element(Tag::Root)],
            open: vec![(0, String::new())],
            flattened: HashMap::new(),
        };
        let (mut pos, mut text_from) = (0, 0);
        while let Some(found) = html[pos..].find('<') {
            let lt = pos + found;
            let (markup, end) = markup_at(html, lt);
            match markup {
                Markup::Stray => {
                    pos = lt + 1;
                    continue;
                }
                Markup::Unclosed => break,
                _ => {}
            }
            tree.text(&decode_entities(&html[text_from..lt]));
            let raw = &html[lt..end];
            (pos, text_from) = (end, end);
            match markup {
                Markup::Start { name, attrs } => match Tag::from_name(&name, &attrs) {
                    Some(tag) => tree.start(tag, name),
                    None => {
                        tree.text(raw);
                        if name == "script" || name == "style" {
                            // Raw text up to the end tag, shown as it is.
                            let content_end = find_end_tag(html, end, &name);
                            tree.text(&html[end..content_end]);
                            (pos, text_from) = (content_end, content_end);
                        }
                    }
                },
                Markup::End { name } => match Tag::from_name(&name, &[]) {
                    Some(_) => tree.end(&name),
                    None => tree.text(raw),
                },
                _ => tree.text(raw),
            }
        }
        tree.text(&decode_entities(&html[text_from..]));
        tree
    }

    fn current(&self) -> usize {
        self.open.last().map_or(0, |(index, _)| *index)
    }

    fn push_child(&mut self, node: Node) -> usize {
        let index = self.nodes.len();
        self.nodes.push(node);
        let parent = self.current();
        if let Node::Element { children, .. } = &mut self.nodes[parent] {
            children.push(index);
        }
        index
    }

    /// Adds text to the open element, joined to the text before it.
    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let parent = self.current();
        if let Node::Element { children, .. } = &self.nodes[parent]
            && let Some(&last) = children.last()
            && let Node::Text(existing) = &mut self.nodes[last]
        {
            existing.push_str(text);
            return;
        }
        self.push_child(Node::Text(text.to_owned()));
    }

    /// Closes the innermost open element named `name` and all opened inside it.
    fn close(&mut self, name: &str) {
        if let Some(at) = self.open.iter().skip(1).rposition(|(_, open)| open == name) {
            self.open.truncate(at + 1);
        }
    }

    fn start(&mut self, tag: Tag, name: String) {
        // The end tags HTML leaves out: a block ends an open paragraph, an item the
        // item before it, a heading or link the one still open.
        if tag.is_block() {
            self.close("p");
        }
        match tag {
            Tag::Item => {
                let stoppers = ["ul", "ol", "blockquote", "pre"];
                if let Some(at) = self
                    .open
                    .iter()
                    .rposition(|(_, n)| n == "li" || stoppers.contains(&n.as_str()) || n.is_empty())
                    && self.open[at].1 == "li"
                {
                    self.open.truncate(at);
                }
            }
            Tag::Heading(_) => {
                if let Some((_, top)) = self.open.last()
                    && matches!(top.as_str(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
                {
                    self.open.pop();
                }
            }
            Tag::Link(_) => self.close("a"),
            _ => {}
        }
        let void = matches!(tag, Tag::Br | Tag::Hr);
        if !void && self.open.len() > MAX_DEPTH {
            *self.flattened.entry(name).or_default() += 1;
            return;
        }
        let index = self.push_child(Node::element(tag));
        if !void {
            self.open.push((index, name));
        }
    }

    fn end(&mut self, name: &str) {
        if name == "br" {
            self.push_child(Node::element(Tag::Br));
            return;
        }
        if let Some(count) = self.flattened.get_mut(name)
            && *count > 0
        {
            *count -= 1;
            return;
        }
        self.close(name);
    }
}

/// Reads the markup at `html[lt] == '<'`, with the index just after it.
fn markup_at(html: &str, lt: usize) -> (Markup, usize) {
    let rest = &html[lt + 1..];
    let bytes = rest.as_bytes();
    let upto = |needle: &str, from: usize| match rest[from..].find(needle) {
        Some(at) => (Markup::Comment, lt + 1 + from + at + needle.len()),
        None => (Markup::Unclosed, html.len()),
    };
    match bytes.first() {
        _ if rest.starts_with("!--") => upto("-->", 1),
        _ if rest.starts_with("![CDATA[") => upto("]]>", 8),
        Some(b'!' | b'?') => upto(">", 1),
        Some(b'/') if bytes.get(1).is_some_and(u8::is_ascii_alphabetic) => {
            let name = tag_name(&rest[1..]);
            match rest.find('>') {
                Some(at) => (Markup::End { name }, lt + 2 + at),
                None => (Markup::Unclosed, html.len()),
            }
        }
        Some(first) if first.is_ascii_alphabetic() => {
            let name = tag_name(rest);
            match attributes(rest, name.len()) {
                Some((attrs, end)) => (Markup::Start { name, attrs }, lt + 1 + end),
                None => (Markup::Unclosed, html.len()),
            }
        }
        _ => (Markup::Stray, lt + 1),
    }
}

/// The lowercase element name at the start of `text`.
fn tag_name(text: &str) -> String {
    let len = text
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(text.len());
    text[..len].to_ascii_lowercase()
}

/// The attributes of a start tag from `at` in `tag` (the text after its `<`), with the
/// index just after its `>`; `None` when the input ends first.
fn attributes(tag: &str, mut at: usize) -> Option<(Vec<(String, String)>, usize)> {
    let bytes = tag.as_bytes();
    let is_space = |b: u8| b.is_ascii_whitespace() || b == b'/';
    let mut attrs = Vec::new();
    loop {
        while bytes.get(at).copied().is_some_and(is_space) {
            at += 1;
        }
        match bytes.get(at)? {
            b'>' => return Some((attrs, at + 1)),
            _ => {
                let start = at;
                at += 1; // A name may start with `=`.
                while bytes
                    .get(at)
                    .is_some_and(|&b| !is_space(b) && b != b'>' && b != b'=')
                {
                    at += 1;
                }
                let name = tag[start..at].to_ascii_lowercase();
                while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
                let mut value = String::new();
                if bytes.get(at) == Some(&b'=') {
                    at += 1;
                    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                        at += 1;
                    }
                    if let &quote @ (b'"' | b'\'') = bytes.get(at)? {
                        let close = at + 1 + tag[at + 1..].find(char::from(quote))?;
                        value = decode_entities(&tag[at + 1..close]);
                        at = close + 1;
                    } else {
                        let len = tag[at..]
                            .find(|c: char| c.is_ascii_whitespace() || c == '>')
                            .unwrap_or(tag.len() - at);
                        value = decode_entities(&tag[at..at + len]);
                        at += len;
                    }
                }
                attrs.push((name, value));
            }
        }
    }
}

/// Where the raw text of a `script` or `style` opened before `from` ends: at its end
/// tag, or at the end of the input.
fn find_end_tag(html: &str, from: usize, name: &str) -> usize {
    let mut at = from;
    while let Some(found) = html[at..].find("</") {
        let start = at + found;
        let after = &html.as_bytes()[start + 2..];
        if after.len() >= name.len() && after[..name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            return start;
        }
        at = start + 2;
    }
    html.len()
}

// ---------------------------------------------------------------------------------
// Entities

/// The Latin-1 entities, from U+00A0 (`nbsp`) to U+00FF (`yuml`).
const LATIN_1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// The lowercase Greek letters, from U+03B1 (`alpha`) to U+03C9 (`omega`).
const GREEK: [&str; 25] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigmaf", "sigma", "tau", "upsilon", "phi",
    "chi", "psi", "omega",
];

/// Other common named entities.
#[rustfmt::skip]
const OTHER_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'), ("lt", '<'), ("gt", '>'), ("quot", '"'), ("apos", '\''),
    ("hellip", '…'), ("mdash", '—'), ("ndash", '–'), ("lsquo", '‘'), ("rsquo", '’'),
    ("sbquo", '‚'), ("ldquo", '“'), ("rdquo", '”'), ("bdquo", '„'), ("lsaquo", '‹'),
    ("rsaquo", '›'), ("euro", '€'), ("trade", '™'), ("bull", '•'), ("dagger", '†'),
    ("Dagger", '‡'), ("permil", '‰'), ("prime", '′'), ("Prime", '″'), ("minus", '−'),
    ("ensp", '\u{2002}'), ("emsp", '\u{2003}'), ("thinsp", '\u{2009}'), ("zwnj", '\u{200C}'),
    ("zwj", '\u{200D}'), ("lrm", '\u{200E}'), ("rlm", '\u{200F}'),
    ("larr", '←'), ("uarr", '↑'), ("rarr", '→'), ("darr", '↓'), ("harr", '↔'),
    ("spades", '♠'), ("clubs", '♣'), ("hearts", '♥'), ("diams", '♦'),
    ("OElig", 'Œ'), ("oelig", 'œ'), ("Scaron", 'Š'), ("scaron", 'š'), ("Yuml", 'Ÿ'),
    ("fnof", 'ƒ'), ("circ", 'ˆ'), ("tilde", '˜'),
];

/// What HTML reads `&#128;` to `&#159;` as: the Windows-1252 characters.
const WINDOWS_1252: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

fn named_entity(name: &str) -> Option<char> {
    let indexed = |table: &[&str], first: u32| {
        let at = table.iter().position(|n| *n == name)?;
        char::from_u32(first + u32::try_from(at).ok()?)
    };
    OTHER_ENTITIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .or_else(|| indexed(&LATIN_1, 0xA0))
        .or_else(|| indexed(&GREEK, 0x3B1))
}

fn numeric_entity(code: u32) -> char {
    match code {
        0x80..=0x9F => WINDOWS_1252[(code - 0x80) as usize],
        0 => char::REPLACEMENT_CHARACTER,
        _ => char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

/// The entity at the start of `text` (just after its `&`): the character and the
/// length read, up to and with the `;`.
fn entity(text: &str) -> Option<(char, usize)> {
    // The longest name in the tables is short; a `;` further on ends something else.
    let (semicolon, _) = text.char_indices().take(12).find(|&(_, c)| c == ';')?;
    let body = &text[..semicolon];
    let decoded = if let Some(number) = body.strip_prefix('#') {
        let (digits, radix) = match number.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (number, 10),
        };
        if digits.is_empty() || digits.len() > 8 || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        numeric_entity(u32::from_str_radix(digits, radix).ok()?)
    } else {
        if !body.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        named_entity(body)?
    };
    Some((decoded, semicolon + 1))
}

/// `text` with its character references decoded; an unknown or malformed one stays.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        match entity(rest) {
            Some((decoded, len)) => {
                out.push(decoded);
                rest = &rest[len..];
            }
            None => out.push('&'),
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------
// Rendering

/// The emphasis already open around inline content: the same one is not nested.
#[derive(Clone, Copy, Default)]
struct Marks {
    strong: bool,
    em: bool,
    del: bool,
    link: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Paragraph,
    /// A list; `alternate` when it uses `*` or `)`, to keep it apart from the one before;
    /// `interrupts` when it may follow a paragraph line directly.
    List {
        ordered: bool,
        alternate: bool,
        interrupts: bool,
    },
    Other,
}

struct Block {
    text: String,
    kind: BlockKind,
}

/// The blocks of one container, and the inline Markdown of the paragraph being built.
#[derive(Default)]
struct Collector {
    blocks: Vec<Block>,
    inline: String,
}

impl Collector {
    /// Ends the paragraph being built, if it holds anything.
    fn flush(&mut self) {
        let inline = std::mem::take(&mut self.inline);
        if let Some(text) = paragraph(&inline) {
            self.blocks.push(Block {
                text,
                kind: BlockKind::Paragraph,
            });
        }
    }

    fn push(&mut self, text: String, kind: BlockKind) {
        self.flush();
        if !text.is_empty() {
            self.blocks.push(Block { text, kind });
        }
    }
}

/// One run of a text node: words, spaces, or whitespace holding newlines.
enum Piece<'a> {
    Word(&'a str),
    Space(&'a str),
    Newline,
    BlankLine,
}

fn for_each_piece(text: &str, mut f: impl FnMut(Piece<'_>)) {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n');
    let mut rest = text;
    while !rest.is_empty() {
        let space = rest.find(|c: char| !is_space(c)).unwrap_or(rest.len());
        if space > 0 {
            let run = &rest[..space];
            f(match run.matches('\n').count() {
                0 => Piece::Space(run),
                1 => Piece::Newline,
                _ => Piece::BlankLine,
            });
            rest = &rest[space..];
        }
        let word = rest.find(is_space).unwrap_or(rest.len());
        if word > 0 {
            f(Piece::Word(&rest[..word]));
            rest = &rest[word..];
        }
    }
}

/// `text` as a fenced code block, every character shown as it is: the fence is longer
/// than any run of backticks inside.
fn verbatim(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}\n{}\n{fence}", text.trim_matches('\n'))
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        if ESCAPED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A `<br>`: a hard break, after dropping the spaces before it.
fn line_break(out: &mut String) {
    out.truncate(out.trim_end_matches([' ', '\t']).len());
    out.push_str(HARD_BREAK);
}

/// A newline in the text: a hard break, unless one (a `<br>`) is already there.
fn text_newline(out: &mut String) {
    out.truncate(out.trim_end_matches([' ', '\t']).len());
    if !out.ends_with('\n') {
        out.push_str(HARD_BREAK);
    }
}

/// Adds one inline piece of Markdown to `out`. A `!` before a link would make it an
/// image, so it is escaped (only links start with an unescaped `[`). Two delimiter
/// runs of the same character would merge into one (`**a****b**`), so a zero-width
/// space keeps them apart.
fn append_inline(out: &mut String, piece: &str) {
    match piece.chars().next() {
        Some('[') if out.ends_with('!') => {
            out.pop();
            out.push_str("\\!");
        }
        Some(c @ ('*' | '~' | '`')) if out.ends_with(c) => out.push('\u{200B}'),
        _ => {}
    }
    out.push_str(piece);
}

/// Splits inline Markdown into its leading whitespace and hard breaks, its core, and
/// its trailing whitespace and hard breaks.
fn split_edges(text: &str) -> (&str, &str, &str) {
    let mut start = 0;
    loop {
        let rest = &text[start..];
        if rest.starts_with(HARD_BREAK) {
            start += HARD_BREAK.len();
        } else if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
            start += c.len_utf8();
        } else {
            break;
        }
    }
    let mut end = text.len();
    loop {
        let rest = &text[start..end];
        if rest.ends_with(HARD_BREAK) {
            end -= HARD_BREAK.len();
        } else if let Some(c) = rest.chars().next_back().filter(|c| c.is_whitespace()) {
            end -= c.len_utf8();
        } else {
            break;
        }
    }
    (&text[..start], &text[start..end], &text[end..])
}

/// `content` between `open` and `close`, with its edge whitespace and breaks moved
/// outside (emphasis must not start or end with whitespace); nothing when it is empty.
fn wrap(content: &str, open: &str, close: &str) -> String {
    match split_edges(content) {
        (lead, "", trail) => format!("{lead}{trail}"),
        (lead, core, trail) => format!("{lead}{open}{core}{close}{trail}"),
    }
}

/// A finished paragraph from its inline Markdown: edges trimmed, each line's
/// indentation dropped (it would make code), and what would start a block escaped.
fn paragraph(inline: &str) -> Option<String> {
    let (_, core, _) = split_edges(inline);
    if core.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(core.len() + 8);
    for (index, line) in core.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let line = line.trim_start_matches([' ', '\t']);
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let after = &line[digits..];
        if line.starts_with(['-', '+', '=']) {
            out.push('\\');
            out.push_str(line);
        } else if digits > 0
            && after.starts_with(['.', ')'])
            && after[1..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t')
        {
            out.push_str(&line[..digits]);
            out.push('\\');
            out.push_str(after);
        } else {
            out.push_str(line);
        }
    }
    Some(out)
}

/// The longest run of `c` in `text`.
fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for found in text.chars() {
        run = if found == c { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// An inline code span, with a fence longer than any backtick run inside.
fn code_span(content: &str) -> String {
    let content = content.replace('\n', " ");
    if content.trim().is_empty() {
        return if content.is_empty() {
            content
        } else {
            " ".into()
        };
    }
    let fence = "`".repeat(longest_run(&content, '`') + 1);
    let pad = content.starts_with('`')
        || content.ends_with('`')
        || (content.starts_with(' ') && content.ends_with(' '));
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{content}{pad}{fence}")
}

/// A fenced code block, with a fence longer than any backtick run inside.
fn code_block(content: &str) -> String {
    let body = content.trim_start_matches('\n').trim_end();
    if body.is_empty() {
        return String::new();
    }
    let fence = "`".repeat(longest_run(body, '`').max(2) + 1);
    format!("{fence}\n{body}\n{fence}")
}

/// A link destination: spaces and control characters percent-encoded, and what
/// would end or change it escaped.
fn link_destination(href: &str) -> String {
    let mut out = String::with_capacity(href.len());
    for c in href.chars() {
        match c {
            '(' | ')' | '<' | '>' | '\\' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_whitespace() || c.is_control() => {
                let mut utf8 = [0; 4];
                for byte in c.encode_utf8(&mut utf8).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

struct Renderer<'t> {
    nodes: &'t [Node],
    /// Whether each node has a block element among its descendants.
    holds_block: Vec<bool>,
}

impl<'t> Renderer<'t> {
    fn new(tree: &'t Tree) -> Self {
        let nodes = tree.nodes.as_slice();
        let mut holds_block = vec![false; nodes.len()];
        // Children come after their parents, so walking back sees them first.
        for index in (0..nodes.len()).rev() {
            if let Node::Element { children, .. } = &nodes[index] {
                holds_block[index] = children.iter().any(|&child| {
                    holds_block[child]
                        || matches!(&nodes[child], Node::Element { tag, .. } if tag.is_block())
                });
            }
        }
        Self { nodes, holds_block }
    }

    /// The Markdown of `children` as blocks, joined with blank lines (or, in a list
    /// item, a nested list right under the paragraph it follows).
    fn blocks(&self, children: &[usize], in_item: bool) -> String {
        let mut collector = Collector::default();
        self.walk(children, &mut collector);
        collector.flush();
        let mut out = String::new();
        let mut previous: Option<BlockKind> = None;
        for block in &collector.blocks {
            if let Some(previous) = previous {
                let tight = in_item
                    && previous == BlockKind::Paragraph
                    && matches!(
                        block.kind,
                        BlockKind::List {
                            interrupts: true,
                            ..
                        }
                    );
                out.push_str(if tight { "\n" } else { "\n\n" });
            }
            out.push_str(&block.text);
            previous = Some(block.kind);
        }
        out
    }

    /// Adds `children` to the blocks and paragraph being built in `out`.
    fn walk(&self, children: &[usize], out: &mut Collector) {
        for (position, &child) in children.iter().enumerate() {
            let (tag, grandchildren) = match &self.nodes[child] {
                Node::Text(text) => {
                    for_each_piece(text, |piece| match piece {
                        Piece::Word(word) => escape_into(&mut out.inline, word),
                        Piece::Space(space) => out.inline.push_str(space),
                        Piece::Newline => text_newline(&mut out.inline),
                        Piece::BlankLine => out.flush(),
                    });
                    continue;
                }
                Node::Element { tag, children } => (tag, children.as_slice()),
            };
            match tag {
                Tag::Br => line_break(&mut out.inline),
                Tag::Hr => out.push("---".into(), BlockKind::Other),
                Tag::Blockquote => {
                    let inner = self.blocks(grandchildren, false);
                    let quoted: Vec<String> = inner
                        .split('\n')
                        .map(|line| match line {
                            "" => ">".to_owned(),
                            line => format!("> {line}"),
                        })
                        .collect();
                    let text = if inner.is_empty() {
                        String::new()
                    } else {
                        quoted.join("\n")
                    };
                    out.push(text, BlockKind::Other);
                }
                &Tag::List(start) => {
                    out.flush();
                    let ordered = start.is_some();
                    // A list right after one of its kind would join it: it gets the
                    // other marker.
                    let alternate = matches!(
                        out.blocks.last(),
                        Some(Block { kind: BlockKind::List { ordered: o, alternate: a, .. }, .. })
                            if *o == ordered && !*a
                    );
                    if let Some((text, kind)) = self.list(grandchildren, start, alternate) {
                        out.push(text, kind);
                    }
                }
                Tag::Heading(level) if !self.holds_block[child] => {
                    let content = self.inline_children(grandchildren, Marks::default());
                    let line: Vec<&str> = content
                        .split(HARD_BREAK)
                        .map(str::trim)
                        .filter(|part| !part.is_empty())
                        .collect();
                    let text = if line.is_empty() {
                        String::new()
                    } else {
                        format!("{} {}", "#".repeat(*level), line.join(" "))
                    };
                    out.push(text, BlockKind::Other);
                }
                Tag::Root | Tag::Para | Tag::Item | Tag::Heading(_) => {
                    out.flush();
                    self.walk(grandchildren, out);
                    out.flush();
                }
                Tag::Pre => out.push(
                    code_block(&self.text_content(grandchildren)),
                    BlockKind::Other,
                ),
                Tag::Code if self.stands_alone(out, children, position) => {
                    let content = self.text_content(grandchildren);
                    if content.contains('\n') {
                        out.push(code_block(&content), BlockKind::Other);
                    } else {
                        append_inline(&mut out.inline, &code_span(&content));
                    }
                }
                _ if self.holds_block[child] => {
                    // Inline formatting around blocks has no Markdown form: the blocks
                    // are kept, the formatting dropped.
                    self.walk(grandchildren, out);
                    if let Tag::Abbr(Some(title)) = tag {
                        out.inline.push_str(" (");
                        escape_into(&mut out.inline, &one_line(title));
                        out.inline.push(')');
                    }
                }
                _ => {
                    let inline = self.inline(child, Marks::default());
                    append_inline(&mut out.inline, &inline);
                }
            }
        }
    }

    /// Whether the `code` at `children[position]` is alone in its paragraph so far and
    /// up to the next block, so that it can be a code block.
    fn stands_alone(&self, out: &Collector, children: &[usize], position: usize) -> bool {
        if !split_edges(&out.inline).1.is_empty() {
            return false;
        }
        for &next in &children[position + 1..] {
            match &self.nodes[next] {
                Node::Text(text) => {
                    let before_break = text.find("\n\n").map_or(text.as_str(), |at| &text[..at]);
                    if !before_break.trim().is_empty() {
                        return false;
                    }
                    if before_break.len() < text.len() {
                        return true;
                    }
                }
                Node::Element { tag: Tag::Br, .. } => {}
                Node::Element { tag, .. } => return tag.is_block(),
            }
        }
        true
    }

    /// A list block, or `None` when it has no content.
    fn list(
        &self,
        children: &[usize],
        start: Option<u64>,
        alternate: bool,
    ) -> Option<(String, BlockKind)> {
        let mut items = Vec::new();
        // Content outside any `li` becomes an item of its own, so it is not lost.
        let mut loose: Vec<usize> = Vec::new();
        let flush_loose = |loose: &mut Vec<usize>, items: &mut Vec<String>| {
            if !loose.is_empty() {
                let text = self.blocks(loose, true);
                if !text.is_empty() {
                    items.push(text);
                }
                loose.clear();
            }
        };
        for &child in children {
            match &self.nodes[child] {
                Node::Element {
                    tag: Tag::Item,
                    children,
                } => {
                    flush_loose(&mut loose, &mut items);
                    items.push(self.blocks(children, true));
                }
                _ => loose.push(child),
            }
        }
        flush_loose(&mut loose, &mut items);
        let first = items.first()?;
        let kind = BlockKind::List {
            ordered: start.is_some(),
            alternate,
            interrupts: !first.is_empty() && start.is_none_or(|start| start == 1),
        };
        let mut text = String::new();
        for (index, item) in (0u64..).zip(&items) {
            if index > 0 {
                text.push('\n');
            }
            let marker = match (start, alternate) {
                (None, false) => "-".to_owned(),
                (None, true) => "*".to_owned(),
                (Some(start), _) => {
                    let number = start.saturating_add(index).min(999_999_999);
                    format!("{number}{}", if alternate { ')' } else { '.' })
                }
            };
            text.push_str(&marker);
            let indent = " ".repeat(marker.len() + 1);
            for (line_index, line) in item.split('\n').enumerate() {
                if line_index == 0 {
                    if !line.is_empty() {
                        text.push(' ');
                    }
                } else {
                    text.push('\n');
                    if !line.is_empty() {
                        text.push_str(&indent);
                    }
                }
                text.push_str(line);
            }
        }
        Some((text, kind))
    }

    /// The inline Markdown of one node that holds no block.
    fn inline(&self, index: usize, marks: Marks) -> String {
        let (tag, children) = match &self.nodes[index] {
            Node::Text(text) => {
                let mut out = String::new();
                self.inline_text(&mut out, text);
                return out;
            }
            Node::Element { tag, children } => (tag, children.as_slice()),
        };
        match tag {
            Tag::Br => HARD_BREAK.to_owned(),
            Tag::Strong if !marks.strong => {
                let marks = Marks {
                    strong: true,
                    ..marks
                };
                wrap(&self.inline_children(children, marks), "**", "**")
            }
            Tag::Em if !marks.em => {
                let marks = Marks { em: true, ..marks };
                wrap(&self.inline_children(children, marks), "*", "*")
            }
            Tag::Del if !marks.del => {
                let marks = Marks { del: true, ..marks };
                wrap(&self.inline_children(children, marks), "~~", "~~")
            }
            Tag::Code => code_span(&self.text_content(children)),
            Tag::Link(Some(href)) if !marks.link => {
                let marks = Marks {
                    link: true,
                    ..marks
                };
                let close = format!("]({})", link_destination(href));
                wrap(&self.inline_children(children, marks), "[", &close)
            }
            Tag::Q => wrap(&self.inline_children(children, marks), "“", "”"),
            Tag::Abbr(Some(title)) => {
                let mut out = self.inline_children(children, marks);
                if !split_edges(&out).1.is_empty() {
                    out.push_str(" (");
                    escape_into(&mut out, &one_line(title));
                    out.push(')');
                }
                out
            }
            _ => self.inline_children(children, marks),
        }
    }

    fn inline_children(&self, children: &[usize], marks: Marks) -> String {
        let mut out = String::new();
        for &child in children {
            match &self.nodes[child] {
                Node::Text(text) => self.inline_text(&mut out, text),
                _ => append_inline(&mut out, &self.inline(child, marks)),
            }
        }
        out
    }

    /// Text inside inline formatting: a blank line there is only a line break.
    fn inline_text(&self, out: &mut String, text: &str) {
        for_each_piece(text, |piece| match piece {
            Piece::Word(word) => escape_into(out, word),
            Piece::Space(space) => out.push_str(space),
            Piece::Newline | Piece::BlankLine => text_newline(out),
        });
    }

    /// The text of `children` as it is, for code: a `<br>` is a newline.
    fn text_content(&self, children: &[usize]) -> String {
        let mut out = String::new();
        for &child in children {
            match &self.nodes[child] {
                Node::Text(text) => out.push_str(text),
                Node::Element { tag: Tag::Br, .. } => out.push('\n'),
                Node::Element { children, .. } => out.push_str(&self.text_content(children)),
            }
        }
        out
    }
}

/// `text` on one line, its whitespace runs made single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Tags whose edges stand between words.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "blockquote",
    "hr",
    "table",
    "dt",
    "dd",
];

/// Text from a bit of HTML (a WordPress title or excerpt, an article's rendered body for
/// search): tags left out, the common
/// entities read, on one line. A `<` that starts no tag ("a < b") stays.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        text.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let starts_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match after.find('>') {
            Some(end) if starts_tag => {
                // A block's edge parts words; an inline tag ("Mark<sup>up</sup>") does not.
                let name: String = after[..end]
                    .trim_start_matches('/')
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                if BLOCK_TAGS.contains(&name.as_str()) {
                    text.push(' ');
                }
                rest = &after[end + 1..];
            }
            _ => {
                text.push('<');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace()
        .map(|word| word.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_comment_too_large_to_convert_is_kept_whole_as_its_source() {
        // Thousands of empty code spans after breaks: the shape that takes quadratic time.
        let html = format!("x{}`", "<br><code></code>".repeat(20_000));
        let markdown = html_to_markdown(&html);
        assert!(markdown.starts_with("```\n"), "{}", &markdown[..20]);
        let rendered = render_reaction(&markdown);
        let text = rendered.as_str();
        assert!(
            text.starts_with("<pre><code>x&lt;br&gt;&lt;code&gt;"),
            "{}",
            &text[..60]
        );
        assert!(!text.contains("<br>"));
    }
    use super::*;
    use crate::domain::markdown::render_reaction;
    use proptest::{collection::vec, prelude::*, sample::select};

    const REL: &str = "rel=\"nofollow ugc noopener noreferrer\"";

    fn md(html: &str) -> String {
        html_to_markdown(html)
    }

    /// What a reader gets: the reaction renderer's HTML for the converted comment.
    fn rendered(html: &str) -> String {
        render_reaction(&html_to_markdown(html)).into_inner()
    }

    /// The text of rendered HTML: tags replaced by spaces, the escapes the serialiser
    /// writes decoded.
    fn visible_text(html: &str) -> String {
        let mut text = String::with_capacity(html.len());
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    text.push(' ');
                }
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&")
    }

    fn words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn alphanumerics(text: &str) -> Vec<char> {
        text.chars().filter(|c| c.is_alphanumeric()).collect()
    }

    /// Whether `small` appears in `big` in order, not necessarily side by side.
    fn is_subsequence<T: PartialEq>(small: &[T], big: &[T]) -> bool {
        let mut big = big.iter();
        small.iter().all(|wanted| big.any(|found| found == wanted))
    }

    #[test]
    fn empty_and_plain_comments_are_unchanged() {
        assert_eq!(md(""), "");
        assert_eq!(md("  \n\t\n "), "");
        assert_eq!(
            md("Comments? I love comments!"),
            "Comments? I love comments!"
        );
        assert_eq!(
            rendered("Comments? I love comments!"),
            "<p>Comments? I love comments!</p>\n"
        );
    }

    #[test]
    fn a_wordpress_comment_keeps_its_paragraphs_lines_and_link() {
        let html = "This user it trying to be anonymous.\n\n\n\tThey used a fake email, so there \
                    should be no <a href=\"https://gravatar.com//\" title=\"Gravatar\" \
                    rel=\"nofollow\">Gravatar</a> associated with it.\n\tThey did not speify a \
                    website";
        assert_eq!(
            md(html),
            "This user it trying to be anonymous.\n\nThey used a fake email, so there should be \
             no [Gravatar](https://gravatar.com//) associated with it.\\\nThey did not speify a \
             website"
        );
        let out = rendered(html);
        assert_eq!(out.matches("<p>").count(), 2, "{out}");
        assert!(
            out.contains("associated with it.<br>\nThey did not"),
            "{out}"
        );
        assert!(out.contains(&format!(
            "<a href=\"https://gravatar.com//\" {REL}>Gravatar</a>"
        )));
        assert!(!out.contains("<pre>") && !out.contains("title"), "{out}");
    }

    #[test]
    fn paragraphs_and_line_breaks_follow_autop() {
        assert_eq!(md("<p>one</p><p>two</p>"), "one\n\ntwo");
        assert_eq!(md("<p>one</p>\n\n\n<p>two</p>\n"), "one\n\ntwo");
        assert_eq!(md("one\n\n\n\ntwo"), "one\n\ntwo");
        assert_eq!(md("one\n \t\ntwo"), "one\n\ntwo");
        assert_eq!(md("one\ntwo"), "one\\\ntwo");
        assert_eq!(md("one   \ntwo"), "one\\\ntwo", "trailing spaces go");
        assert_eq!(md("one<br />two<br>three"), "one\\\ntwo\\\nthree");
        assert_eq!(
            md("one<br />\ntwo"),
            "one\\\ntwo",
            "autop adds no second break"
        );
        assert_eq!(md("one<br><br>two"), "one\\\n\\\ntwo");
        assert_eq!(rendered("one<br><br>two"), "<p>one<br>\n<br>\ntwo</p>\n");
        assert_eq!(md("<br>one<br>"), "one", "no break at a paragraph's edge");
        assert_eq!(
            md("<p>\none\n</p>\ntwo\n<p>three</p>"),
            "one\n\ntwo\n\nthree"
        );
        assert_eq!(md("<div>a</div><address>b</address>c"), "a\n\nb\n\nc");
        assert_eq!(
            md("<p>a<p>b"),
            "a\n\nb",
            "an open paragraph ends at the next"
        );
        assert_eq!(md("a\r\nb\r\n\r\nc\rd"), "a\\\nb\n\nc\\\nd", "CR LF and CR");
        assert_eq!(md("a\0b"), "a\u{FFFD}b", "NUL as an HTML parser reads it");
    }

    #[test]
    fn indentation_never_makes_a_code_block() {
        assert_eq!(
            md("\tindented\n    four spaces\n\t\ttwo tabs"),
            "indented\\\nfour spaces\\\ntwo tabs"
        );
        assert!(!rendered("text\n\n\tindented\n\n        more").contains("<pre>"));
    }

    #[test]
    fn emphasis_tags_become_markdown() {
        assert_eq!(md("<strong>a</strong> <b>b</b>"), "**a** **b**");
        assert_eq!(md("<em>a</em> <i>b</i> <cite>c</cite>"), "*a* *b* *c*");
        assert_eq!(
            md("<del>a</del> <s>b</s> <strike>c</strike>"),
            "~~a~~ ~~b~~ ~~c~~"
        );
        assert_eq!(
            md("x<b> bold </b>y"),
            "x **bold** y",
            "edge spaces move outside"
        );
        assert_eq!(md("<b>a<br></b>b"), "**a**\\\nb");
        assert_eq!(md("<b></b><i> </i>x"), "x");
        assert_eq!(md("<b>a <b>nested</b></b>"), "**a nested**");
        assert_eq!(md("<em><strong>both</strong></em>"), "***both***");
        assert_eq!(
            rendered("<b>a</b><b>b</b><del>c</del><s>d</s>"),
            "<p><strong>a</strong>\u{200b}<strong>b</strong><del>c</del>\u{200b}<del>d</del></p>\n",
            "adjacent runs are kept apart"
        );
        assert_eq!(
            rendered("Text with <strong>strong</strong>, <em>em</em> and <del>gone</del>."),
            "<p>Text with <strong>strong</strong>, <em>em</em> and <del>gone</del>.</p>\n"
        );
    }

    #[test]
    fn code_becomes_spans_or_fenced_blocks() {
        assert_eq!(md("use <code>x*y</code> here"), "use `x*y` here");
        assert_eq!(md("<code>a `tick` b</code>"), "``a `tick` b``");
        assert_eq!(md("<code>`edge`</code>"), "`` `edge` ``");
        assert_eq!(md("<code><b>bold</b>&lt;i&gt;</code>"), "`bold<i>`");
        assert_eq!(
            md("<code>line one\nline two</code>"),
            "```\nline one\nline two\n```"
        );
        assert_eq!(
            md("Before\n\n<code>a\nb</code>\n\nafter"),
            "Before\n\n```\na\nb\n```\n\nafter"
        );
        assert_eq!(
            md("in <code>a\nb</code> text"),
            "in `a b` text",
            "not alone: a span"
        );
        assert_eq!(md("<code>a</code><code>b</code>"), "`a`\u{200b}`b`");
        let out = rendered("<code>line one\nline two</code>");
        assert_eq!(out, "<pre><code>line one\nline two\n</code></pre>\n");
    }

    #[test]
    fn pre_is_a_verbatim_fenced_block() {
        let html = "<pre>if (a &gt; b &amp;&amp; *c*) {\n    return `x`;\n}</pre>";
        assert_eq!(
            md(html),
            "```\nif (a > b && *c*) {\n    return `x`;\n}\n```"
        );
        assert_eq!(
            md("<pre>\n```\nfenced\n```\n</pre>"),
            "````\n```\nfenced\n```\n````"
        );
        assert_eq!(
            md("<pre><code class=\"php\">$a-&gt;b</code></pre>"),
            "```\n$a->b\n```"
        );
        assert_eq!(md("<pre>a<table>b</pre>"), "```\na<table>b\n```");
        assert_eq!(md("<pre>  \n</pre>"), "");
        assert!(
            rendered(html)
                .contains("<pre><code>if (a &gt; b &amp;&amp; *c*) {\n    return `x`;\n}")
        );
    }

    #[test]
    fn blockquotes_nest() {
        assert_eq!(
            md("<blockquote>quoted</blockquote>after"),
            "> quoted\n\nafter"
        );
        assert_eq!(
            md("<blockquote><p>a</p><p>b</p></blockquote>"),
            "> a\n>\n> b"
        );
        assert_eq!(
            md("<blockquote>outer<blockquote>inner</blockquote></blockquote>"),
            "> outer\n>\n> > inner"
        );
        assert_eq!(md("<blockquote> </blockquote>x"), "x");
        let out = rendered("<blockquote>outer<blockquote>inner</blockquote></blockquote>");
        assert_eq!(
            out,
            "<blockquote>\n<p>outer</p>\n<blockquote>\n<p>inner</p>\n</blockquote>\n</blockquote>\n"
        );
    }

    #[test]
    fn links_become_markdown_links() {
        assert_eq!(
            md("<a href=\"https://example.com/\" title=\"T\" rel=\"nofollow\">site</a>"),
            "[site](https://example.com/)"
        );
        assert_eq!(
            md("<a name=\"top\">anchor</a>"),
            "anchor",
            "no href: the text"
        );
        assert_eq!(md("<a href=\"  \">blank</a>"), "blank");
        assert_eq!(
            md("<a href=\"https://e.com\"></a>x"),
            "x",
            "nothing to click"
        );
        assert_eq!(
            md("<a href=\"https://e.com/a b(c)<d>?x=1&amp;copy=2\">x</a>"),
            "[x](https://e.com/a%20b\\(c\\)\\<d\\>?x=1\\&copy=2)"
        );
        assert_eq!(
            rendered("<a href=\"https://e.com/a b(c)?x=1&amp;copy=2\">x</a>"),
            format!("<p><a href=\"https://e.com/a%20b(c)?x=1&amp;copy=2\" {REL}>x</a></p>\n")
        );
        assert_eq!(
            md("Wow!<a href=\"https://e.com\">x</a>"),
            "Wow\\![x](https://e.com)"
        );
        assert_eq!(
            md("<a href=\"https://a.com\">a <a href=\"https://b.com\">b</a></a>"),
            "[a](https://a.com) [b](https://b.com)",
            "a link inside a link ends the first"
        );
        assert_eq!(
            md("<a href=\"https://e.com\"> <b>x</b> </a>"),
            " [**x**](https://e.com)".trim()
        );
        let out = rendered("<a href=\"javascript:alert(1)\">click</a>");
        assert!(
            out.contains("click") && !out.contains("javascript"),
            "{out}"
        );
    }

    #[test]
    fn lists_become_markdown_lists() {
        assert_eq!(md("<ul><li>a</li><li>b</li></ul>"), "- a\n- b");
        assert_eq!(md("<ol><li>a</li><li>b</li></ol>"), "1. a\n2. b");
        assert_eq!(md("<ol start=\"7\"><li>a<li>b</ol>"), "7. a\n8. b");
        assert_eq!(md("<ol start=\"x\"><li>a</ol>"), "1. a");
        assert_eq!(md("<ol start=\"-4\"><li>a</ol>"), "0. a");
        assert_eq!(
            md(
                "<ul>\n\t<li>a\n\t\t<ul>\n\t\t\t<li>b</li>\n\t\t</ul>\n\t</li>\n\t<li>c</li>\n</ul>"
            ),
            "- a\n  - b\n- c"
        );
        assert_eq!(
            md("<ol><li>a<ol><li>b<ul><li>c</li></ul></li></ol></li></ol>"),
            "1. a\n   1. b\n      - c"
        );
        assert_eq!(md("<ul><li><p>a</p><p>b</p></li></ul>"), "- a\n\n  b");
        assert_eq!(md("<ul><li>a</li></ul><ul><li>b</li></ul>"), "- a\n\n* b");
        assert_eq!(md("<ol><li>a</li></ol><ol><li>b</li></ol>"), "1. a\n\n1) b");
        assert_eq!(
            md("<ul>loose<li>a</li></ul>"),
            "- loose\n- a",
            "no text lost"
        );
        assert_eq!(md("<li>stray</li>"), "stray");
        assert_eq!(md("<ul><li></li><li>b</li></ul>"), "-\n- b");
        assert_eq!(md("<ul> </ul>x"), "x");
        let out = rendered(
            "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul><ol start=\"3\"><li>d</li></ol>",
        );
        assert_eq!(
            out,
            "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n<li>c</li>\n</ul>\n\
             <ol start=\"3\">\n<li>d</li>\n</ol>\n"
        );
    }

    #[test]
    fn headings_and_rules() {
        for level in 1..=6 {
            assert_eq!(
                md(&format!("<h{level}>Title <em>x</em></h{level}>")),
                format!("{} Title *x*", "#".repeat(level))
            );
        }
        assert_eq!(md("text<h2>a<br>b</h2>more"), "text\n\n## a b\n\nmore");
        assert_eq!(md("<h3> </h3>x"), "x");
        assert_eq!(rendered("<h2>Kop</h2>"), "<p>Kop</p>\n");
        assert_eq!(md("a<hr />b"), "a\n\n---\n\nb");
        assert_eq!(rendered("a<hr>b"), "<p>a</p>\n---\n<p>b</p>\n");
    }

    #[test]
    fn quotes_abbreviations_and_plain_wrappers() {
        assert_eq!(md("<q>quoted</q>"), "“quoted”");
        assert_eq!(
            md("<abbr title=\"Hypertext  Markup\nLanguage\">HTML</abbr>"),
            "HTML (Hypertext Markup Language)"
        );
        assert_eq!(md("<acronym title=\"a*b\">AB</acronym>"), "AB (a\\*b)");
        assert_eq!(md("<abbr>HTML</abbr>"), "HTML");
        assert_eq!(
            md(
                "<ins>a</ins> <u>b</u> <big>c</big> <small>d</small> <span class=\"x\">e</span> \
                <font color=\"red\">f</font> <kbd>g</kbd> <var>h</var> \
                H<sub>2</sub>O mc<sup>2</sup>"
            ),
            "a b c d e f g h H2O mc2"
        );
    }

    #[test]
    fn tags_without_a_markdown_form_stay_visible_as_text() {
        assert_eq!(
            md("<table border=\"1\"><tr><td><b>cell</b></td></tr></table>"),
            "\\<table border=\"1\"\\>\\<tr\\>\\<td\\>**cell**\\</td\\>\\</tr\\>\\</table\\>"
        );
        assert_eq!(
            md("<dl><dt>T</dt><dd>D</dd></dl>"),
            "\\<dl\\>\\<dt\\>T\\</dt\\>\\<dd\\>D\\</dd\\>\\</dl\\>"
        );
        assert_eq!(
            md("<img src=\"a.png\" alt=\"pic\">"),
            "\\<img src=\"a.png\" alt=\"pic\"\\>"
        );
        assert_eq!(md("a<!-- note -->b"), "a\\<!-- note --\\>b");
        assert_eq!(md("<![CDATA[x<y]]>"), "\\<!\\[CDATA\\[x\\<y\\]\\]\\>");
        assert_eq!(md("<?php echo 1; ?>"), "\\<?php echo 1; ?\\>");
        assert_eq!(md("<!DOCTYPE html>x"), "\\<!DOCTYPE html\\>x");
        assert_eq!(
            md("<custom-tag a=b>x</custom-tag>"),
            "\\<custom-tag a=b\\>x\\</custom-tag\\>"
        );
        let out = rendered(
            "<table><tr><td>cell</td></tr></table><iframe src=\"https://e.com\"></iframe>",
        );
        assert!(
            out.contains("&lt;table&gt;&lt;tr&gt;&lt;td&gt;cell&lt;/td&gt;"),
            "{out}"
        );
        assert!(
            out.contains("&lt;iframe src=\"https://e.com\"&gt;&lt;/iframe&gt;"),
            "{out}"
        );
        assert!(!out.contains("<table") && !out.contains("<iframe"));
    }

    #[test]
    fn scripts_and_styles_stay_visible_text() {
        assert_eq!(
            md("<script>alert(1)</script>"),
            "\\<script\\>alert(1)\\</script\\>"
        );
        assert_eq!(
            md("<script type=\"x\">if (a<b && <b>c</b>) {}</SCRIPT>after"),
            "\\<script type=\"x\"\\>if (a\\<b \\&\\& \\<b\\>c\\</b\\>) {}\\</SCRIPT\\>after",
            "tags inside a script are its text"
        );
        assert_eq!(
            md("<style>p { color: red }</style>"),
            "\\<style\\>p { color: red }\\</style\\>"
        );
        assert_eq!(md("<script>never closed"), "\\<script\\>never closed");
        for hostile in [
            "<script>alert(1)</script>",
            "<SCRIPT SRC=//e.com/x.js></SCRIPT>",
            "<scr<script>ipt>alert(1)</script>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<a href=\"javascript:alert(1)\"><script>x</script></a>",
            "<pre><script>x</script></pre>",
            "<code><script>x</script></code>",
        ] {
            let out = rendered(hostile).to_lowercase();
            assert!(!out.contains("<script"), "{hostile:?} gave {out}");
            assert!(out.contains("&lt;script"), "{hostile:?} gave {out}");
        }
    }

    #[test]
    fn entities_are_decoded_and_unknown_ones_kept() {
        assert_eq!(md("AT&T"), "AT\\&T");
        assert_eq!(
            rendered("AT&T &foo; &amp &#; &#x; &#xZZ; &#99999999999;"),
            "<p>AT&amp;T &amp;foo; &amp;amp &amp;#; &amp;#x; &amp;#xZZ; &amp;#99999999999;</p>\n"
        );
        assert_eq!(
            md(
                "&lt;b&gt; &quot;q&quot; &apos;a&apos; &hellip; &mdash; &ndash; \
                 &lsquo;&rsquo; &ldquo;&rdquo; &laquo;&raquo;"
            ),
            "\\<b\\> \"q\" 'a' … — – ‘’ “” «»"
        );
        assert_eq!(
            md(
                "&euro;&copy;&reg;&trade;&deg;&middot;&bull;&eacute;&egrave;&euml;\
                 &iuml;&ouml;&uuml;&auml;&aacute;&oacute;&ccedil;"
            ),
            "€©®™°·•éèëïöüäáóç"
        );
        assert_eq!(
            md("&Agrave;&yuml;&times;&divide;&szlig;&alpha;&omega;&sigmaf;"),
            "Àÿ×÷ßαως"
        );
        assert_eq!(
            md("&#65;&#x42;&#X43;&#0067;&#128;&#150;&#x1F600;&#0;&#xD800;"),
            "ABCC€–😀\u{FFFD}\u{FFFD}"
        );
        assert_eq!(md("a&nbsp;b"), "a\u{a0}b");
        assert_eq!(md("&amp;lt;"), "\\&lt;", "decoded once");
        assert_eq!(
            md("<a href=\"https://e.com/?a=1&amp;b=2\">x</a>"),
            "[x](https://e.com/?a=1\\&b=2)"
        );
    }

    #[test]
    fn markdown_syntax_in_text_stays_text() {
        let specials = "\\ ` * _ [ ] < > # ~ & | ! ( ) { } + - = . ' \" :";
        assert_eq!(
            md(&specials
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")),
            "\\\\ \\` \\* \\_ \\[ \\] \\< \\> \\# \\~ \\& \\| ! ( ) { } + - = . ' \" :"
        );
        assert_eq!(rendered("*not emphasis*"), "<p>*not emphasis*</p>\n");
        assert_eq!(
            rendered("_not_ __either__ `nor` ~~this~~"),
            "<p>_not_ __either__ `nor` ~~this~~</p>\n"
        );
        assert_eq!(
            rendered("[not](a link) ![nor](an image)"),
            "<p>[not](a link) ![nor](an image)</p>\n"
        );
        assert_eq!(
            rendered("trailing backslash \\"),
            "<p>trailing backslash \\</p>\n"
        );
        for line in [
            "1. not a list",
            "2) nor this",
            "- nor",
            "+ nor",
            "* nor",
            "# not a heading",
            "> not a quote",
            "---",
            "===",
            "***",
            "```",
            "~~~",
            "| a | b |",
            "[x]: https://e.com",
        ] {
            let html = format!("before\n{line}\nafter");
            let out = rendered(&html);
            let expected = format!("before<br>\n{line}<br>\nafter")
                .replace('>', "&gt;")
                .replace("<br&gt;", "<br>");
            assert_eq!(
                out,
                format!("<p>{expected}</p>\n"),
                "{line:?} as {:?}",
                md(&html)
            );
            assert_eq!(
                rendered(line),
                format!("<p>{}</p>\n", line.replace('>', "&gt;")),
                "{line:?}"
            );
        }
        assert_eq!(md("1.5 million"), "1.5 million");
        assert_eq!(md("2024. A year"), "2024\\. A year");
    }

    #[test]
    fn greek_and_other_unicode_stay_intact() {
        let text = "Καλημέρα κόσμε — ελληνικά, 日本語, emoji 😀, Ünïcödé";
        assert_eq!(md(text), text);
        assert_eq!(
            rendered(&format!("<p><b>{text}</b></p>")),
            format!("<p><strong>{text}</strong></p>\n")
        );
    }

    #[test]
    fn broken_html_keeps_its_text() {
        assert_eq!(
            md("<b>bold <i>both</b> italic</i>"),
            "**bold *both*** italic"
        );
        assert_eq!(md("<p>unclosed"), "unclosed");
        assert_eq!(md("</b>stray end</p>"), "stray end");
        assert_eq!(md("a < b > c"), "a \\< b \\> c");
        assert_eq!(md("<"), "\\<");
        assert_eq!(md("<3 you"), "\\<3 you");
        assert_eq!(
            md("x <a href=\"oops>y</a> &amp; z"),
            "x \\<a href=\"oops\\>y\\</a\\> \\& z"
        );
        assert_eq!(md("x <!-- never closed"), "x \\<!-- never closed");
        assert_eq!(md("<b"), "\\<b");
        assert_eq!(md("</"), "\\</");
        assert_eq!(md("<<b>>"), "\\<**\\>**");
        assert_eq!(md("<a href=x title=\"a>b\">link</a>"), "[link](x)");
        assert_eq!(md("<ul><li>a</ul></li>b"), "- a\n\nb");
    }

    #[test]
    fn deep_and_huge_inputs_are_bounded() {
        for open in [
            "<div>",
            "<b>",
            "<blockquote>",
            "<ul><li>",
            "<span>",
            "<a href=x>",
            "<q>",
            "<li>",
            "<p>",
            "<code>",
            "<pre>",
        ] {
            let html = format!("{}deep{}", open.repeat(20_000), "</div></b>".repeat(100));
            let out = md(&html);
            assert!(out.contains("deep"), "{open}");
            assert!(out.len() < 10 * html.len(), "{open}: {} bytes", out.len());
            assert!(rendered(&html).contains("deep"), "{open}");
        }
        let quotes = md(&format!("{}x", "<blockquote>".repeat(1000)));
        assert_eq!(quotes.matches('>').count(), MAX_DEPTH);
        // A thousand nested `b` past the cap: their end tags do not close the outer ones.
        let html = format!("{}a{}b", "<em><b>".repeat(1000), "</b></em>".repeat(1000));
        assert_eq!(md(&html), "***a***b");
        for pathological in [
            "<",
            "<a ",
            "<a title=\"",
            "&#",
            "&",
            "\n\t",
            "<!--",
            "</x",
            "`",
            "*",
            "<li>",
        ] {
            let html = pathological.repeat(200_000);
            let started = std::time::Instant::now();
            let _ = md(&html);
            assert!(started.elapsed().as_secs() < 10, "{pathological:?} is slow");
        }
    }

    #[test]
    fn a_big_wordpress_sample() {
        let html = "<h1>Heading 1</h1>\n<h2>Heading 2</h2>\n<h6>Heading 6</h6>\n\
            Paragraph text with <strong>strong</strong>, <b>bold</b>, <em>em</em> \
            and <code>inline `code`</code>.\n\
            <blockquote>Quoted text\nover two lines.\n<cite>Someone Famous</cite></blockquote>\n\
            <table>\n<tr><th>Name</th><td>Value</td></tr>\n</table>\n\
            <dl><dt>Term</dt><dd>Definition</dd></dl>\n\
            <ul>\n\t<li>First item</li>\n\t<li>Second item\n\t\t<ol start=\"3\">\n\
            \t\t\t<li>Three</li>\n\t\t\t<li>Four</li>\n\t\t</ol>\n\t</li>\n</ul>\n\
            <pre>if (a &gt; b &amp;&amp; c) {\n    return \"x\";\n}</pre>\n\
            <code>line one\nline two</code>\n<hr />\n\
            <q>A short quote</q>, <abbr title=\"Hypertext Markup Language\">HTML</abbr>, \
            H<sub>2</sub>O and E = mc<sup>2</sup>.";
        let expected = "# Heading 1\n\n## Heading 2\n\n###### Heading 6\n\n\
            Paragraph text with **strong**, **bold**, *em* and `` inline `code` ``.\n\n\
            > Quoted text\\\n> over two lines.\\\n> *Someone Famous*\n\n\
            \\<table\\>\\\n\
            \\<tr\\>\\<th\\>Name\\</th\\>\\<td\\>Value\\</td\\>\\</tr\\>\\\n\\</table\\>\\\n\
            \\<dl\\>\\<dt\\>Term\\</dt\\>\\<dd\\>Definition\\</dd\\>\\</dl\\>\n\n\
            - First item\n- Second item\n\n  3. Three\n  4. Four\n\n\
            ```\nif (a > b && c) {\n    return \"x\";\n}\n```\n\n\
            ```\nline one\nline two\n```\n\n---\n\n\
            “A short quote”, HTML (Hypertext Markup Language), H2O and E = mc2.";
        assert_eq!(md(html), expected);
        let out = rendered(html);
        for part in [
            "<p>Heading 1</p>",
            "<p>Heading 6</p>",
            "<code>inline `code`</code>",
            "<blockquote>\n<p>Quoted text<br>\nover two lines.<br>\n\
             <em>Someone Famous</em></p>\n</blockquote>",
            "&lt;td&gt;Value&lt;/td&gt;",
            "&lt;dd&gt;Definition&lt;/dd&gt;",
            "<ol start=\"3\">\n<li>Three</li>\n<li>Four</li>\n</ol>",
            "<pre><code>if (a &gt; b &amp;&amp; c) {\n    return \"x\";\n}\n</code></pre>",
            "<pre><code>line one\nline two\n</code></pre>",
            "---",
            "“A short quote”, HTML (Hypertext Markup Language), H2O and E = mc2.",
        ] {
            assert!(out.contains(part), "{part:?} not in {out}");
        }
    }

    #[test]
    fn a_disqus_message() {
        let html = "<p>Great post! See \
                    <a href=\"http://disq.us/url?url=https%3A%2F%2Fe.com%3Ax&amp;cuid=1\" \
                    rel=\"nofollow noopener\" target=\"_blank\" title=\"https://e.com\">\
                    e.com</a></p>\
                    <p><i>Edit:</i> typo</p>";
        assert_eq!(
            md(html),
            "Great post! See [e.com](http://disq.us/url?url=https%3A%2F%2Fe.com%3Ax\\&cuid=1)\
             \n\n*Edit:* typo"
        );
    }

    #[test]
    fn the_entity_tables_line_up() {
        assert_eq!(named_entity("nbsp"), Some('\u{a0}'));
        assert_eq!(named_entity("iquest"), Some('¿'));
        assert_eq!(named_entity("Agrave"), Some('À'));
        assert_eq!(named_entity("Ouml"), Some('Ö'));
        assert_eq!(named_entity("times"), Some('×'));
        assert_eq!(named_entity("eacute"), Some('é'));
        assert_eq!(named_entity("yuml"), Some('ÿ'));
        assert_eq!(named_entity("pi"), Some('π'));
        assert_eq!(named_entity("omega"), Some('ω'));
        assert_eq!(named_entity("nope"), None);
        assert_eq!(numeric_entity(0x9F), 'Ÿ');
    }

    /// Pieces of comment text: their HTML and the text a reader should see.
    const PIECES: &[(&str, &str)] = &[
        (" ", " "),
        ("\n", "\n"),
        ("\n\n", "\n\n"),
        ("\t", "\t"),
        ("&amp;", "&"),
        ("&lt;b&gt;", "<b>"),
        ("&eacute;", "é"),
        ("&#233;", "é"),
        ("&#xE9;", "é"),
        ("&nbsp;", "\u{a0}"),
        ("&hellip;", "…"),
        ("AT&T ", "AT&T "),
        ("&foo; ", "&foo; "),
        ("a < b ", "a < b "),
        ("*", "*"),
        ("_", "_"),
        ("`", "`"),
        ("``", "``"),
        ("~~", "~~"),
        ("#", "#"),
        ("[x]", "[x]"),
        ("(y)", "(y)"),
        ("\\", "\\"),
        ("1. ", "1. "),
        ("2) ", "2) "),
        ("- ", "- "),
        ("+", "+"),
        ("=", "="),
        ("> ", "> "),
        ("|", "|"),
        ("!", "!"),
        ("    ", "    "),
        ("Ελληνικά", "Ελληνικά"),
        ("---", "---"),
    ];

    const TAGS: &[&str] = &[
        "p",
        "br",
        "b",
        "strong",
        "i",
        "em",
        "del",
        "s",
        "strike",
        "code",
        "pre",
        "blockquote",
        "a",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h6",
        "hr",
        "q",
        "cite",
        "abbr",
        "acronym",
        "span",
        "div",
        "address",
        "sup",
        "sub",
        "ins",
        "u",
        "big",
        "small",
        "font",
        "kbd",
        "var",
        "table",
        "tr",
        "td",
        "dl",
        "dt",
        "dd",
        "img",
        "iframe",
        "foo",
        "x-y",
        "script",
        "style",
    ];

    const ATTRIBUTES: &[&str] = &[
        "",
        "",
        "",
        " href=\"https://e.com/a b(c)?x=1&amp;y=2\"",
        " href='javascript:alert(1)'",
        " href=\"\"",
        " href=https://e.com",
        " title=\"T > t\"",
        " start=\"7\"",
        " start=\"-3\"",
        " class=x",
        " title='q\"uote'",
        "/",
    ];

    /// A piece of text: its HTML and what a reader should see.
    fn text_piece() -> impl Strategy<Value = (String, String)> {
        prop_oneof![
            3 => "[a-zA-Z0-9]{1,8}".prop_map(|w| (w.clone(), w)),
            1 => "[α-ωÀ-ÿ]{1,4}".prop_map(|w| (w.clone(), w)),
            3 => select(PIECES).prop_map(|(h, t)| (h.to_owned(), t.to_owned())),
        ]
    }

    /// Random comment HTML from the tags above, with the text a reader should see.
    fn comment_html() -> impl Strategy<Value = (String, String)> {
        text_piece().prop_recursive(6, 96, 6, |inner| {
            (
                select(TAGS),
                select(ATTRIBUTES),
                vec(inner, 0..6),
                any::<bool>(),
            )
                .prop_map(|(tag, attributes, children, close)| {
                    let (mut html, mut text) = (String::new(), String::new());
                    for (child_html, child_text) in children {
                        html.push_str(&child_html);
                        text.push_str(&child_text);
                    }
                    let raw_text = tag == "script" || tag == "style";
                    if raw_text {
                        // Raw text up to its end tag: only what needs no decoding.
                        text.retain(|c| c.is_alphanumeric() || c == ' ');
                        html.clone_from(&text);
                    }
                    let end = if close || raw_text {
                        format!("</{tag}>")
                    } else {
                        String::new()
                    };
                    (format!("<{tag}{attributes}>{html}{end}"), text)
                })
        })
    }

    /// Fragments of broken markup, for inputs no generator of valid HTML makes.
    const SOUP: &[&str] = &[
        "<",
        ">",
        "</",
        "/>",
        "<b>",
        "</b>",
        "<i>",
        "</em>",
        "<p>",
        "</p>",
        "<li>",
        "<ul>",
        "</ol>",
        "<ol start=9>",
        "<blockquote>",
        "</blockquote>",
        "<pre>",
        "</pre>",
        "<code>",
        "</code>",
        "<a href=\"",
        "<a href=x>",
        "</a>",
        "\"",
        "'",
        "=",
        "&",
        "&amp;",
        "&#",
        "&#x",
        ";",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<?",
        "<!",
        "<script>",
        "</script>",
        "<style>",
        "<h2>",
        "</h2>",
        "<br>",
        "<hr/>",
        "<table>",
        "<td>",
        "\n",
        "\n\n",
        "\t",
        "    ",
        " ",
        "*",
        "_",
        "`",
        "```",
        "~",
        "#",
        "[",
        "]",
        "(",
        ")",
        "!",
        "\\",
        "1.",
        "-",
        "+",
        "=",
        "word",
        "é",
        "\u{200B}",
        "\u{0}",
        "\r",
    ];

    /// Checks that `expected` (letters and digits, or words) appears in order in what a
    /// reader sees of `input`.
    fn assert_kept<T: PartialEq + std::fmt::Debug>(
        input: &str,
        expected: &[T],
        seen: impl Fn(&str) -> Vec<T>,
    ) -> Result<(), TestCaseError> {
        let markdown = html_to_markdown(input);
        let out = render_reaction(&markdown).into_inner();
        let text = visible_text(&out);
        prop_assert!(
            is_subsequence(expected, &seen(&text)),
            "{:?} -> {:?} -> {:?}",
            input,
            markdown,
            out
        );
        Ok(())
    }

    /// `text` without what looks like an entity (`&` up to a near `;`): it may decode to
    /// anything, so it is left out of what must be kept.
    fn without_entities(text: &str) -> String {
        let mut kept = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('&') {
            kept.push_str(&rest[..at]);
            rest = &rest[at + 1..];
            if let Some((end, _)) = rest.char_indices().take(12).find(|&(_, c)| c == ';') {
                rest = &rest[end + 1..];
            }
        }
        kept.push_str(rest);
        kept
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            // No proptest-regressions/ files in the source tree; a failure prints its input.
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any input converts without panicking, trimmed; the text before its first `<`
        /// is plain text, so all of its letters and digits reach the reader.
        #[test]
        fn any_input_converts_and_keeps_its_leading_text(input in any::<String>()) {
            let markdown = html_to_markdown(&input);
            prop_assert_eq!(markdown.trim(), markdown.as_str());
            let prefix = input.split('<').next().unwrap_or_default();
            assert_kept(&input, &alphanumerics(&without_entities(prefix)), alphanumerics)?;
        }

        /// Broken markup converts without panicking, trimmed, and never into a script.
        #[test]
        fn markup_soup_converts(pieces in vec(select(SOUP), 0..60)) {
            let input = pieces.concat();
            let markdown = html_to_markdown(&input);
            prop_assert_eq!(markdown.trim(), markdown.as_str());
            let out = render_reaction(&markdown).into_inner().to_lowercase();
            prop_assert!(!out.contains("<script") && !out.contains("<style"), "{:?}", input);
        }

        /// Text without markup keeps every word, in order.
        #[test]
        fn text_without_markup_keeps_every_word(input in "[^<&]{0,200}") {
            assert_kept(&input, &words(&input), words)?;
        }

        /// The same for text built from Markdown syntax, newlines and indentation.
        #[test]
        fn markdown_like_text_keeps_every_word(pieces in vec(select(PIECES), 0..40)) {
            let input: String = pieces
                .iter()
                .map(|(_, text)| *text)
                .filter(|text| !text.contains(['<', '&']))
                .collect();
            prop_assert!(!html_to_markdown(&input).contains("\n\n\n"));
            assert_kept(&input, &words(&input), words)?;
        }

        /// Plain text without Markdown syntax or newlines is its own Markdown.
        #[test]
        fn plain_text_round_trips(input in "[a-zA-Z0-9éλΩ,;:'\"?!/( ]{0,60}") {
            prop_assert_eq!(html_to_markdown(&input), input.trim());
        }

        /// Comment HTML loses none of its text: its letters and digits all reach the
        /// reader, in order (words may be split or joined where tags were).
        #[test]
        fn comment_html_keeps_all_its_text((html, text) in comment_html()) {
            let markdown = html_to_markdown(&html);
            prop_assert_eq!(markdown.trim(), markdown.as_str());
            if !html.contains("<pre") && !html.contains("<code") {
                prop_assert!(!markdown.contains("\n\n\n"), "{:?} -> {:?}", html, markdown);
            }
            let out = render_reaction(&markdown).into_inner().to_lowercase();
            prop_assert!(!out.contains("<script"));
            assert_kept(&html, &alphanumerics(&text), alphanumerics)?;
        }
    }
}
