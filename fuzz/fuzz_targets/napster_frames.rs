//! Napster client↔server frames, as the server and the peer read them: a `FrameReader` fed
//! the stream in chunks, `Frame::decode` cutting frames, `Message::from_frame` typing them.
//!
//! The first input byte sets the chunk size, the rest is the stream. Checks that chunked
//! reading yields the same frames and the same error as decoding the whole stream at once,
//! and that every message that decodes survives its own encoding: decoding what
//! `Message::encode` writes gives back the message, with `encoded_len` bytes used.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p2plab_napster::message::{Frame, HEADER_LEN};
use p2plab_napster::{Message, MAX_DATA_LEN};
use p2plab_peer_protocol::{CodecError, FrameReader, WireMessage};

/// The frames of `stream` decoded where they lie, and the error that stopped them, if any.
fn at_once(mut stream: &[u8]) -> (Vec<Frame>, Option<CodecError>) {
    let mut frames = Vec::new();
    loop {
        match Frame::decode(stream) {
            Ok((frame, used)) => {
                frames.push(frame);
                stream = &stream[used..];
            }
            Err(CodecError::Incomplete) => return (frames, None),
            Err(e) => return (frames, Some(e)),
        }
    }
}

/// The frames of `stream` as a reader gets them, `step` bytes at a time.
fn chunked(stream: &[u8], step: usize) -> (Vec<Frame>, Option<CodecError>) {
    let mut reader = FrameReader::new(HEADER_LEN + MAX_DATA_LEN);
    let mut frames = Vec::new();
    for chunk in stream.chunks(step) {
        let mut input = chunk;
        loop {
            match reader.decode_next(&mut input, Frame::decode) {
                Ok(Some((frame, used))) => {
                    assert_eq!(used, frame.encoded_len());
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let (frames, error) = at_once(stream);
    assert_eq!(
        chunked(stream, usize::from(step).max(1)),
        (frames.clone(), error)
    );
    for frame in &frames {
        let Ok(msg) = Message::from_frame(frame) else {
            continue;
        };
        // 102's name may come bare or quoted, and it is written bare: a name that itself
        // begins and ends with a quote loses them on the way back. Names with quotes are
        // never shared, so this one ambiguity of the format is left out.
        if let Message::RemoveFile { name } = &msg {
            if name.len() >= 2 && name.starts_with('"') && name.ends_with('"') {
                continue;
            }
        }
        let bytes = msg.to_bytes();
        assert_eq!(bytes.len(), msg.encoded_len());
        assert_eq!(Message::decode(&bytes), Ok((msg, bytes.len())));
    }
});
