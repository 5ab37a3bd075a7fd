//! gzip for the live streams, done once per page size instead of once per page.
//!
//! Every page of one size receives the same messages in the same order, so one compressor per
//! size serves them all: each message is deflated once and the same bytes go to every page that
//! asked for gzip. A page that joins gets a gzip header and its first frame deflated on its own,
//! ending at a full flush; the shared compressor makes a full flush just before it joins (those
//! bytes go only to the pages already there), so nothing the new page is sent refers to data it
//! never had. A page costs no compressor of its own (~0.4 MB each before), and 50 pages of a size
//! cost one compression of each message instead of 50.

use flate2::{Compress, Compression, FlushCompress};
use hyper::body::Bytes;

/// A gzip member's header: deflate, no name, no time, unknown OS. The member never ends: the
/// stream is closed instead, as a browser expects of a live stream.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// One message as a page receives it: plain, or as the next piece of its gzip stream.
#[derive(Debug, Clone, Default)]
pub struct Chunk {
    pub plain: Bytes,
    pub gzip: Bytes,
}

impl Chunk {
    pub fn for_page(&self, gzip: bool) -> &Bytes {
        if gzip { &self.gzip } else { &self.plain }
    }
}

/// Deflates all of `input`, ending at a flush of `how`.
fn deflate(c: &mut Compress, input: &[u8], how: FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 2 + 64);
    let start = c.total_in();
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(64));
        }
        let consumed = usize::try_from(c.total_in() - start).unwrap_or(input.len());
        if c.compress_vec(&input[consumed.min(input.len())..], &mut out, how).is_err() {
            break;
        }
        let consumed = usize::try_from(c.total_in() - start).unwrap_or(input.len());
        // zlib's rule: the flush is complete when it left room in the output.
        if consumed >= input.len() && out.len() < out.capacity() {
            break;
        }
    }
    out
}

/// The compressor of one page size.
pub struct SharedGzip {
    c: Compress,
    /// Whether anything was deflated since the last full flush.
    dirty: bool,
}

impl Default for SharedGzip {
    fn default() -> Self {
        Self { c: Compress::new(Compression::fast(), false), dirty: false }
    }
}

impl SharedGzip {
    /// The message for every page of this size.
    pub fn chunk(&mut self, plain: Bytes) -> Chunk {
        let gzip = Bytes::from(deflate(&mut self.c, &plain, FlushCompress::Sync));
        self.dirty = true;
        Chunk { plain, gzip }
    }

    /// Before a page joins: the bytes that end what the pages already there were sent at a full
    /// flush (for them alone), or `None` when nothing was sent since the last one.
    pub fn restart(&mut self) -> Option<Chunk> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        let gzip = Bytes::from(deflate(&mut self.c, &[], FlushCompress::Full));
        Some(Chunk { plain: Bytes::new(), gzip })
    }
}

/// A joining page's first message: with gzip, the header and the message deflated alone.
pub fn first(plain: Bytes) -> Chunk {
    let mut own = Compress::new(Compression::fast(), false);
    let mut gzip = GZIP_HEADER.to_vec();
    gzip.extend(deflate(&mut own, &plain, FlushCompress::Full));
    Chunk { plain, gzip: Bytes::from(gzip) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::MultiGzDecoder;
    use std::io::Read;

    /// What a browser reads from a stream that is cut off at its end: everything decoded so far.
    fn gunzip_prefix(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        let mut d = MultiGzDecoder::new(bytes);
        let mut buf = [0u8; 4096];
        loop {
            match d.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_page_that_joins_late_decodes_its_frame_and_every_shared_message_after() {
        let mut shared = SharedGzip::default();
        let early_first = first(Bytes::from_static(b"data: early-full\n\n"));
        let mut early = early_first.gzip.to_vec();
        for m in ["data: one\n\n", "data: two, like one\n\n"] {
            early.extend_from_slice(&shared.chunk(Bytes::from(m)).gzip);
        }
        // A second page joins: the pages already there get the restart, the new one does not.
        early.extend_from_slice(&shared.restart().expect("something was sent").gzip);
        assert!(shared.restart().is_none(), "nothing sent since the last restart");
        let mut late = first(Bytes::from_static(b"data: late-full\n\n")).gzip.to_vec();
        for m in ["data: three, like two\n\n", "data: four\n\n"] {
            let c = shared.chunk(Bytes::from(m));
            early.extend_from_slice(&c.gzip);
            late.extend_from_slice(&c.gzip);
        }
        assert_eq!(
            gunzip_prefix(&early),
            "data: early-full\n\ndata: one\n\ndata: two, like one\n\ndata: three, like two\n\ndata: four\n\n"
        );
        assert_eq!(gunzip_prefix(&late), "data: late-full\n\ndata: three, like two\n\ndata: four\n\n");
    }

    #[test]
    fn a_repeated_message_costs_less_the_second_time() {
        let mut shared = SharedGzip::default();
        let msg = Bytes::from_static(br##"data: {"t":"diff","runs":[[3,10,"12s","#d0d0d0","#1c1c1c",0]]}\n\n"##);
        let once = shared.chunk(msg.clone()).gzip.len();
        let again = shared.chunk(msg).gzip.len();
        assert!(again < once / 2, "the shared compressor keeps its dictionary: {once} then {again} bytes");
    }
}
