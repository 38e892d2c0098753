//! The protocol channel between a session and its worker, the same on every OS: a loopback TCP
//! connection. The session listens on `127.0.0.1` (port chosen by the OS) and hands the worker
//! the address and a random token on its stdin, which is then closed; the worker connects and
//! proves itself with the token, so no other local process can take its place. The worker's
//! stdout and stderr are left to the plugin's WASI output (see `runner::output`).
//!
//! Why not stdout: a plugin that prints must never write into the protocol stream, and
//! redirecting a process's own fd 1 and 2 (as this module's predecessor did) has no portable
//! equivalent. Why not an inherited pipe: handing a handle to one child without leaking it to
//! the others a busy app starts needs per-OS unsafe code; a socket needs none.

use std::io::{self, BufRead, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How long the session waits for its worker to connect.
pub(crate) const CONNECT_LIMIT: Duration = Duration::from_secs(30);
/// How long a connection may take to show its token.
const TOKEN_LIMIT: Duration = Duration::from_secs(5);
/// How often the session looks for the worker's connection.
const ACCEPT_POLL: Duration = Duration::from_millis(1);

/// A token that proves a connection is the worker's: 128 random bits, as hex.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    /// A new random token.
    pub fn random() -> io::Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self(bytes.iter().fold(String::new(), |mut hex, b| {
            let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
            hex
        })))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    /// Never printed: it is a secret between a session and its worker.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// The session's end before the worker has connected.
pub(crate) struct Listener {
    listener: TcpListener,
    token: Token,
}

impl Listener {
    /// Listens on a loopback port of the OS's choosing.
    pub fn bind() -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            token: Token::random()?,
        })
    }

    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The line the worker reads on its stdin: the address to connect to and the token.
    pub fn invitation(&self) -> io::Result<String> {
        Ok(format!(
            "{} {}\n",
            self.listener.local_addr()?,
            self.token.as_str()
        ))
    }

    /// Waits for the worker's connection until `limit`, asking `gone` between looks whether the
    /// worker has ended (then there is no point waiting; `gone` says why). Connections that do
    /// not show the token are closed and waited past.
    pub fn accept(
        self,
        limit: Duration,
        mut gone: impl FnMut() -> Option<String>,
    ) -> io::Result<TcpStream> {
        let started = Instant::now();
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Ok(stream) = self.admit(stream) {
                        return Ok(stream);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Some(why) = gone() {
                        return Err(io::Error::new(io::ErrorKind::BrokenPipe, why));
                    }
                    if started.elapsed() > limit {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("the worker did not connect within {} s", limit.as_secs()),
                        ));
                    }
                    std::thread::sleep(ACCEPT_POLL);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads the token line of a new connection; the stream comes back blocking, with the
    /// small frames of the protocol sent at once.
    fn admit(&self, stream: TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(TOKEN_LIMIT))?;
        let expected = format!("{}\n", self.token.as_str());
        let mut shown = vec![0u8; expected.len()];
        (&stream).read_exact(&mut shown)?;
        if shown != expected.as_bytes() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "a connection without the worker's token",
            ));
        }
        stream.set_read_timeout(None)?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// The worker's end: reads the invitation from `invitation` (its stdin), connects and shows
/// the token. Returns the stream and the token (which also marks its output).
pub(crate) fn connect(invitation: impl BufRead) -> io::Result<(TcpStream, Token)> {
    let mut line = String::new();
    invitation.take(4096).read_line(&mut line)?;
    let (addr, token) = parse_invitation(&line)?;
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.write_all(format!("{}\n", token.as_str()).as_bytes())?;
    stream.flush()?;
    Ok((stream, token))
}

fn parse_invitation(line: &str) -> io::Result<(SocketAddr, Token)> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the worker expects `ADDRESS TOKEN` on its stdin (it is started by the app, not by hand)",
        )
    };
    let mut parts = line.split_whitespace();
    let addr: SocketAddr = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let token = parts.next().ok_or_else(bad)?;
    if !addr.ip().is_loopback()
        || token.len() != 32
        || !token.bytes().all(|b| b.is_ascii_hexdigit())
        || parts.next().is_some()
    {
        return Err(bad());
    }
    Ok((addr, Token(token.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let a = Token::random().unwrap();
        let b = Token::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(format!("{a:?}"), "Token(…)");
    }

    #[test]
    fn the_worker_connects_with_its_token_and_a_stranger_is_turned_away() {
        let listener = Listener::bind().unwrap();
        let invitation = listener.invitation().unwrap();
        let (addr, _) = parse_invitation(&invitation).unwrap();
        // A stranger connects first, with a wrong token; then the worker.
        let mut stranger = TcpStream::connect(addr).unwrap();
        stranger
            .write_all(b"00000000000000000000000000000000\n")
            .unwrap();
        let worker = std::thread::Builder::new()
            .name("test-worker".into())
            .spawn(move || {
                let (mut stream, token) = connect(invitation.as_bytes()).unwrap();
                stream.write_all(b"hello").unwrap();
                token
            })
            .unwrap();
        let mut stream = listener.accept(Duration::from_secs(10), || None).unwrap();
        // The stranger was closed without a word.
        stranger
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(stranger.read(&mut buf).unwrap(), 0);
        let mut hello = [0u8; 5];
        stream.read_exact(&mut hello).unwrap();
        assert_eq!(&hello, b"hello");
        assert_eq!(worker.join().unwrap().as_str().len(), 32);
    }

    #[test]
    fn a_worker_that_ended_is_not_waited_for() {
        let listener = Listener::bind().unwrap();
        let err = listener
            .accept(Duration::from_secs(10), || Some("exit status: 3".into()))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(err.to_string().contains("exit status: 3"));
    }

    #[test]
    fn invitations_must_be_loopback_with_a_token() {
        let token = "0123456789abcdef0123456789abcdef";
        assert!(parse_invitation(&format!("127.0.0.1:4000 {token}\n")).is_ok());
        assert!(parse_invitation(&format!("[::1]:4000 {token}")).is_ok());
        for bad in [
            String::new(),
            format!("10.0.0.1:4000 {token}"),
            "127.0.0.1:4000 short".to_string(),
            format!("127.0.0.1:4000 {token} extra"),
            format!("localhost {token}"),
        ] {
            let err = parse_invitation(&bad).unwrap_err();
            assert!(err.to_string().contains("started by the app"), "{bad}");
        }
    }
}
