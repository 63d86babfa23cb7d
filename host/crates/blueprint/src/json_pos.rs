//! Where each value of a JSON document starts, by JSON pointer.
//!
//! `serde_json` reports syntax errors with line and column, but a parsed `Value` has no
//! positions. To point a blueprint problem at its line, the (already valid) text is
//! scanned once more and the byte offset of every value is recorded under the same JSON
//! pointer (`/tasks/0/tasks/1/uuid`) that `Value::pointer` uses.

use std::collections::HashMap;

/// Pointers deeper than this are not recorded (the deepest a blueprint problem is
/// reported at is `/tasks/N/tasks/M/properties/KEY`); their problems point at an
/// ancestor. Bounds the pointers' total length.
const MAX_RECORDED_DEPTH: usize = 8;
/// Values recorded at most; the rest point at an ancestor. Bounds the map.
const MAX_RECORDED: usize = 50_000;
/// How deep a blueprint's JSON may nest.
pub const MAX_DEPTH: usize = 32;

/// The deepest nesting of arrays and objects in `text` (one linear pass, strings
/// skipped).
pub fn depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Byte offsets of every value in a valid JSON text.
#[derive(Debug, Default)]
pub struct JsonPositions {
    values: HashMap<String, usize>,
}

impl JsonPositions {
    /// Scans `text`, which must already have parsed as JSON.
    pub fn scan(text: &str) -> Self {
        let mut s = Scanner {
            b: text.as_bytes(),
            i: 0,
            out: HashMap::new(),
        };
        s.ws();
        s.value(String::new(), 0);
        JsonPositions { values: s.out }
    }

    /// The offset of the value at `pointer`, or of its nearest ancestor that exists
    /// (so a missing key points at the object that should hold it).
    pub fn of(&self, pointer: &str) -> usize {
        let mut p = pointer;
        loop {
            if let Some(&o) = self.values.get(p) {
                return o;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return 0,
            }
        }
    }
}

/// Escapes one pointer segment (RFC 6901).
pub fn segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    out: HashMap<String, usize>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, ptr: String, depth: usize) {
        let record = depth <= MAX_RECORDED_DEPTH && self.out.len() < MAX_RECORDED;
        if record {
            self.out.insert(ptr.clone(), self.i);
        }
        // Below the recorded depth only the position matters, not the pointer.
        let child = |p: &str, seg: &dyn Fn() -> String| {
            if record {
                format!("{p}/{}", seg())
            } else {
                String::new()
            }
        };
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b'}') | None => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => {
                            self.i += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let key = self.string();
                    self.ws();
                    if self.peek() == Some(b':') {
                        self.i += 1;
                    }
                    self.ws();
                    self.value(child(&ptr, &|| segment(&key)), depth + 1);
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    match self.peek() {
                        Some(b']') | None => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => {
                            self.i += 1;
                            continue;
                        }
                        _ => {}
                    }
                    self.value(child(&ptr, &|| n.to_string()), depth + 1);
                    n += 1;
                }
            }
            Some(b'"') => {
                self.string();
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
            }
        }
    }

    /// Reads a string token and returns its decoded value.
    fn string(&mut self) -> String {
        let start = self.i;
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => break,
                _ => {}
            }
        }
        let raw = std::str::from_utf8(&self.b[start..self.i.min(self.b.len())]).unwrap_or("\"\"");
        serde_json::from_str(raw).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_by_pointer() {
        let text = "{\n  \"a\": [1, {\"b/c\": \"x\\\"y\"}],\n  \"d\": true\n}";
        let p = JsonPositions::scan(text);
        assert_eq!(p.of(""), 0);
        assert_eq!(&text[p.of("/a")..p.of("/a") + 1], "[");
        assert_eq!(&text[p.of("/a/0")..p.of("/a/0") + 1], "1");
        assert_eq!(&text[p.of("/a/1/b~1c")..p.of("/a/1/b~1c") + 1], "\"");
        assert_eq!(&text[p.of("/d")..p.of("/d") + 4], "true");
        // A missing key points at its parent.
        assert_eq!(p.of("/a/1/nope"), p.of("/a/1"));
    }
}
