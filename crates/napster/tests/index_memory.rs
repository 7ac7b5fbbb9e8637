//! How many heap bytes the index server's inverted index holds per indexed file.
//!
//! The index is the server's memory: every other structure is per user, not per file. A
//! file record is a name, an md5, a size and three audio numbers (~100 bytes); the index
//! adds its posting lists and the side maps that find a file by user and name and by md5.
//! The allocator below counts live heap bytes, so the figure is exact and the same on every
//! run (no resident-set noise from the allocator's own pages).

use p2plab_napster::index::{Index, Limits};
use p2plab_napster::FileInfo;
use p2plab_peer_protocol::ConnId;

#[global_allocator]
static ALLOCATOR: p2plab_alloc::Counting = p2plab_alloc::Counting;

/// The count is the whole process's: each test holds this while it measures, so the other
/// test's allocations are not counted as its own.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn file(n: usize) -> FileInfo {
    // Names like `p2plab bench napster` makes: three words of a 200-word vocabulary, and the
    // sharer's own part; a real md5 each, so every file is in the md5 side map too.
    FileInfo {
        name: format!(
            "w{} w{} w{} {}-{}.mp3",
            n * 7 % 200,
            n * 13 % 200,
            n * 31 % 200,
            n % 10,
            n
        ),
        md5: format!("{:032x}", (n as u128 + 1) * 0x9e37_79b9_7f4a_7c15),
        size: 1_000 + n as u64,
        bitrate: 128,
        frequency: 44_100,
        seconds: 240,
    }
}

/// Files indexed: enough that the hash tables' growth slack averages out.
const FILES: usize = 50_000;

/// Heap bytes one indexed file may cost. The record itself (its slot, name and md5) is about
/// 170 bytes; its words' posting entries, the two side maps and its place in its user's
/// name-ordered set (what lets a browse read a user's first files without sorting them all)
/// add about 190. Storing each name's words with the file and keeping ordered trees as
/// posting lists cost 973.
const BUDGET_PER_FILE: usize = 375;

#[test]
fn an_indexed_file_costs_its_record_and_a_few_ids() {
    let _alone = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let before = p2plab_alloc::Counting::live();
    let mut index = Index::new(Limits {
        files_per_user: usize::MAX,
        files: usize::MAX,
        bytes: u64::MAX,
    });
    for n in 0..FILES {
        index.add(ConnId((n % 10) as u64), file(n)).unwrap();
    }
    let held = p2plab_alloc::Counting::live() - before;
    let per_file = held / FILES;
    println!("{per_file} heap bytes per indexed file ({FILES} files)");
    assert!(
        per_file <= BUDGET_PER_FILE,
        "{per_file} bytes per file, over the budget of {BUDGET_PER_FILE}"
    );
    // Everything leaves with its users: the index holds nothing more than when empty.
    for user in 0..10 {
        index.remove_user(ConnId(user));
    }
    assert!(index.is_empty());
    assert_eq!(index.word_count(), 0);
}

mod server {
    //! The same count for the whole server core, fed shares as its driver feeds it bytes.

    use std::net::SocketAddr;

    use p2plab_napster::{Server, ServerConfig};
    use p2plab_peer_protocol::{ConnIds, Effects, Input, Instant, Node, Outbox};

    fn framed(ty: u16, data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u16).to_le_bytes().to_vec();
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    /// Heap bytes the whole server core may hold per shared file: the index's budget, and
    /// a little for the parsing that does not stay.
    const SERVER_BUDGET_PER_FILE: usize = super::BUDGET_PER_FILE + 50;

    #[test]
    fn a_shared_file_costs_the_server_little_more_than_its_index_entry() {
        const USERS: usize = 10;
        const PER_USER: usize = 2_000;
        let _alone = super::MEASURING.lock().unwrap_or_else(|e| e.into_inner());
        let mut server = Server::new(ServerConfig::default());
        let mut effects = Effects::new();
        let mut ids = ConnIds::new();
        let mut conns = Vec::new();
        for u in 0..USERS {
            let conn = ids.next_id();
            let remote: SocketAddr = format!("10.0.0.{}:40000", u + 1).parse().unwrap();
            let mut out = Outbox::new(&mut effects, &mut ids);
            server.handle(Instant::ZERO, Input::Accepted { conn, remote }, &mut out);
            let login = framed(2, format!("user{u} pw 6699 \"nap v0.8\" 3").as_bytes());
            let mut out = Outbox::new(&mut effects, &mut ids);
            server.handle(
                Instant::ZERO,
                Input::Received {
                    conn,
                    bytes: &login,
                },
                &mut out,
            );
            while effects.pop().is_some() {}
            conns.push(conn);
        }
        let before = p2plab_alloc::Counting::live();
        for (u, conn) in conns.iter().enumerate() {
            for i in 0..PER_USER {
                let f = super::file(u * PER_USER + i);
                let share = framed(
                    100,
                    format!(
                        "\"{}\" {} {} {} {} {}",
                        f.name, f.md5, f.size, f.bitrate, f.frequency, f.seconds
                    )
                    .as_bytes(),
                );
                let mut out = Outbox::new(&mut effects, &mut ids);
                server.handle(
                    Instant::ZERO,
                    Input::Received {
                        conn: *conn,
                        bytes: &share,
                    },
                    &mut out,
                );
                while effects.pop().is_some() {}
            }
        }
        let per_file = (p2plab_alloc::Counting::live() - before) / (USERS * PER_USER);
        println!(
            "{per_file} heap bytes per shared file, whole server ({} files)",
            USERS * PER_USER
        );
        assert_eq!(
            server.index().len(),
            USERS * PER_USER,
            "every share was indexed"
        );
        assert!(
            per_file <= SERVER_BUDGET_PER_FILE,
            "{per_file} bytes per file, over the budget of {SERVER_BUDGET_PER_FILE}"
        );
    }
}
