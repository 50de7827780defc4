//! Asks for a secret on the terminal without echoing it (raw mode, so the typed characters are
//! never drawn), for `warren job run` when a secret parameter was not given with `-p`.

use std::io::{IsTerminal, Read, Write};

use crate::error::ClientError;

/// True when a secret can be asked for: stdin and stderr are terminals.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Writes `prompt` to stderr and reads one line from the terminal with echo off. Ctrl-C or
/// Ctrl-D on an empty line abandons the command.
pub async fn ask(prompt: String) -> Result<String, ClientError> {
    tokio::task::spawn_blocking(move || ask_blocking(&prompt))
        .await
        .map_err(|e| ClientError::Usage(format!("could not read the secret: {e}")))?
}

/// Restores the terminal when dropped, however the read ends.
struct RawMode;

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

fn ask_blocking(prompt: &str) -> Result<String, ClientError> {
    let mut err = std::io::stderr();
    write!(err, "{prompt}")?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode().map_err(|e| {
        ClientError::Usage(format!(
            "cannot turn terminal echo off ({e}); pass the secret with -p NAME=@env:VAR"
        ))
    })?;
    let guard = RawMode;
    let value = read_line(&mut std::io::stdin().lock());
    drop(guard);
    writeln!(err)?;
    value
}

/// Reads up to Enter, honouring backspace; the bytes must be UTF-8.
fn read_line(input: &mut impl Read) -> Result<String, ClientError> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if input.read(&mut byte)? == 0 {
            break;
        }
        match byte[0] {
            b'\r' | b'\n' => break,
            3 => return Err(abandoned()),
            4 if bytes.is_empty() => return Err(abandoned()),
            8 | 127 => {
                // Drop the last whole character.
                while let Some(b) = bytes.pop() {
                    if b & 0xC0 != 0x80 {
                        break;
                    }
                }
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes)
        .map_err(|_| ClientError::Usage("the secret is not valid UTF-8".to_owned()))
}

fn abandoned() -> ClientError {
    ClientError::Usage("no secret given; nothing was started".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_line_with_backspaces() {
        let mut input: &[u8] = b"hunx\x7fter2\rignored";
        assert_eq!(read_line(&mut input).ok().as_deref(), Some("hunter2"));
        let mut input: &[u8] = "pä\x7fa\n".as_bytes();
        assert_eq!(read_line(&mut input).ok().as_deref(), Some("pa"));
        let mut input: &[u8] = b"\x03";
        assert!(read_line(&mut input).is_err());
    }
}
