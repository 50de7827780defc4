//! The benchmark's log: a deterministic mix of lines 20–200 bytes long, some coloured with SGR
//! sequences, some on stderr, and one in a thousand an error line the search phase looks for.

/// One generated line.
pub struct Line {
    pub err: bool,
    pub text: String,
}

/// What the search phase looks for (one line in a thousand matches).
pub const SEARCH: &str = "ERROR [0-9]+ disk";

/// A small, fast, deterministic generator (xorshift), so every run logs the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const WORDS: [&str; 16] = [
    "compiling",
    "warren-server",
    "ok",
    "test",
    "passed",
    "fetch",
    "crate",
    "build",
    "linking",
    "target",
    "release",
    "debug",
    "src/lib.rs",
    "finished",
    "running",
    "checking",
];

/// `n` lines.
pub fn lines(n: usize) -> Vec<Line> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            let len = 20 + (rng.next() % 181) as usize;
            let mut text = String::with_capacity(len + 16);
            if i % 1000 == 999 {
                text.push_str(&format!("ERROR {i} disk quota exceeded on /var/lib/build "));
            } else if i % 7 == 0 {
                text.push_str("\u{1b}[32mok\u{1b}[0m ");
            }
            while text.len() < len {
                text.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
                text.push(' ');
            }
            text.truncate(len);
            while !text.is_char_boundary(text.len()) {
                text.pop();
            }
            Line {
                err: i % 5 == 0,
                text,
            }
        })
        .collect()
}

/// The log as a plain file's bytes, one line per `\n`, for the baselines.
pub fn file_bytes(lines: &[Line]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.text.len() + 1).sum());
    for line in lines {
        out.extend_from_slice(line.text.as_bytes());
        out.push(b'\n');
    }
    out
}
