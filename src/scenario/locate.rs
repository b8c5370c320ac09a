//! The line of a field in the scenario's text, for errors that serde cannot
//! place (checks across fields, run after parsing): `load.users` is found
//! as the `users:` key inside the `load:` block, `server.faults[1].status`
//! as the `status:` key of the second item of `faults:`. Block-style YAML
//! is followed key by key; inside a flow map (`load: {users: 0}`) the
//! deepest key found on its own line is the answer.

/// `(line, column)`, 1-based, of the deepest part of `path` found in
/// `text`; `None` when not even its first key is there.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = None;
    // The block being searched: lines [from, to) deeper than `indent`.
    let (mut from, mut to, mut indent) = (0usize, lines.len(), -1i64);
    for segment in segments(path) {
        let hit = match segment {
            Segment::Key(key) => find_key(&lines[from..to], key, indent),
            Segment::Index(n) => find_item(&lines[from..to], n, indent),
        };
        let Some((i, col, own_indent)) = hit else {
            break;
        };
        let at = from + i;
        found = Some((at + 1, col + 1));
        // The value's block: the following lines deeper than this key.
        let end = (at + 1..to)
            .find(|&j| {
                let l = lines[j];
                !blank(l) && (indent_of(l) as i64) <= own_indent
            })
            .unwrap_or(to);
        // An item's first key shares its line (`- status: ...`).
        let (next_from, next_indent) = match segment {
            Segment::Index(_) => (at, own_indent),
            Segment::Key(_) => (at + 1, own_indent),
        };
        from = next_from;
        to = end;
        indent = next_indent;
    }
    found
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// `a.b[2].c` as keys and indices.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        for idx in rest.split('[') {
            if let Ok(n) = idx.trim_end_matches(']').parse() {
                out.push(Segment::Index(n));
            }
        }
    }
    out
}

fn blank(l: &str) -> bool {
    let t = l.trim();
    t.is_empty() || t.starts_with('#')
}

fn indent_of(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

/// The line (index, column, indent) of `key:` directly inside the block
/// (the shallowest keys deeper than `parent`).
fn find_key(lines: &[&str], key: &str, parent: i64) -> Option<(usize, usize, i64)> {
    let mut level = None;
    for (i, l) in lines.iter().enumerate() {
        if blank(l) {
            continue;
        }
        // A key after a list dash counts at the dash's depth + 2.
        let t = l.trim_start();
        let (t, col) = match t.strip_prefix("- ") {
            Some(rest) => (rest.trim_start(), l.len() - rest.trim_start().len()),
            None => (t, indent_of(l)),
        };
        if (col as i64) <= parent {
            continue;
        }
        let lvl = *level.get_or_insert(col);
        if col == lvl && t.strip_prefix(key).is_some_and(|r| r.starts_with(':')) {
            return Some((i, col, col as i64));
        }
    }
    None
}

/// The line of the `n`-th `- ` item directly inside the block.
fn find_item(lines: &[&str], n: usize, parent: i64) -> Option<(usize, usize, i64)> {
    let mut level = None;
    let mut seen = 0;
    for (i, l) in lines.iter().enumerate() {
        if blank(l) || !l.trim_start().starts_with('-') {
            continue;
        }
        let col = indent_of(l);
        if (col as i64) < parent {
            continue;
        }
        if col != *level.get_or_insert(col) {
            continue;
        }
        if seen == n {
            return Some((i, col, col as i64));
        }
        seen += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: x
duration: 0s
load:
  rate: 10/s
  max_in_flight: 0
server:
  faults:
    - latency: { delay: 5ms }
    - status: { code: 503, nodes: [4] }
  phases:
    - name: a
      faults:
        - reset: { rate: 5% }
";

    #[test]
    fn finds_nested_keys_and_list_items() {
        assert_eq!(locate(TEXT, "duration"), Some((2, 1)));
        assert_eq!(locate(TEXT, "load.max_in_flight"), Some((5, 3)));
        assert_eq!(locate(TEXT, "server.faults[1].status"), Some((9, 7)));
        assert_eq!(
            locate(TEXT, "server.faults[1].status.nodes[0]"),
            Some((9, 7))
        );
        assert_eq!(
            locate(TEXT, "server.phases[0].faults[0].reset"),
            Some((13, 11))
        );
    }

    #[test]
    fn a_missing_key_gives_its_deepest_parent_or_none() {
        assert_eq!(locate(TEXT, "load.users"), Some((3, 1)));
        assert_eq!(locate(TEXT, "client.retry"), None);
        // Not fooled by a same-named key elsewhere.
        assert_eq!(
            locate("a:\n  rate: 1\nload:\n  x: 1\n", "load.rate"),
            Some((3, 1))
        );
    }
}
