//! Napster messages: [`Message`], one variant per type p2plab speaks, and its codec.
//!
//! Decoding is two steps: [`Frame`] cuts one `<len><type><data>` out of the stream (and can
//! skip a type it does not know), then [`Message::from_frame`] reads the data into a typed
//! variant. [`WireMessage::decode`] does both at once. Encoding writes the data as text and
//! frames it. The submodules hold the layouts, one group of types each, with a wire-format
//! block in each module's docs.

pub mod download;
pub mod frame;
pub mod kind;
pub mod login;
pub mod presence;
pub mod result;
pub mod resume;
pub mod share;
pub mod upload;
pub mod user;

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use p2plab_peer_protocol::{CodecError, WireMessage};

pub use download::{Endpoint, NickFile};
pub use frame::{Frame, HEADER_LEN};
pub use kind::Kind;
pub use login::Login;
pub use presence::NickLink;
pub use result::SearchResult;
pub use resume::{ResumeMatch, ResumeRequest};
pub use share::FileInfo;
pub use upload::UploadRequest;
pub use user::WhoisInfo;

use crate::fields::Fields;
use crate::search::SearchRequest;
use crate::types as t;

/// One Napster message. Names follow napster.txt; the numbers are in [`crate::types`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// 0, S: a login was refused; the server closes the connection after it.
    Error(String),
    /// 2, C: log in.
    Login {
        /// Nick, password, data port, client info, link type.
        login: Login,
        /// The optional client build number.
        build: Option<String>,
    },
    /// 3, S: logged in.
    LoginAck {
        /// The registered email, or a dummy one.
        email: String,
    },
    /// 6, C: register the nick and log in.
    Register {
        /// Nick, password, data port, client info, link type.
        login: Login,
        /// The email to register.
        email: String,
    },
    /// 7, C: is this nick free?
    NickCheck {
        /// The nick asked about.
        nick: String,
    },
    /// 8, S: the nick is free.
    NickFree,
    /// 9, S: the nick is already registered.
    NickTaken,
    /// 10, S: the nick is invalid.
    NickInvalid,
    /// 100, C: share this file.
    AddFile(FileInfo),
    /// 102, C: stop sharing this file.
    RemoveFile {
        /// The file's name.
        name: String,
    },
    /// 110, C: stop sharing every file.
    UnshareAll,
    /// 200, C: search.
    Search(SearchRequest),
    /// 201, S: one hit.
    SearchResult(SearchResult),
    /// 202, S: no more hits for the oldest search.
    SearchEnd,
    /// 203, C: where can I download this file from this user?
    Download(NickFile),
    /// 204, S: from this address and data port.
    DownloadAck(Endpoint),
    /// 206, S: that user or file is unavailable.
    GetError(NickFile),
    /// 214, C: how big is the server? (no data)
    StatsRequest,
    /// 214, S: this big.
    Stats {
        /// Users online.
        users: u64,
        /// Files indexed.
        files: u64,
        /// Gigabytes shared, rounded down.
        gigabytes: u64,
    },
    /// 218, C: a download started.
    Downloading,
    /// 219, C: a download ended.
    DownloadDone,
    /// 220, C: an upload started.
    Uploading,
    /// 221, C: an upload ended.
    UploadDone,
    /// 404, S: an error after login, as text.
    NoSuch(String),
    /// 500, C: the holder is firewalled; ask it to push the file to me.
    DownloadFirewall(NickFile),
    /// 501, S: to a firewalled holder: connect to this downloader and send the file.
    UploadFirewall(Endpoint),
    /// 607, S: to the holder: this user asks for this file; accept with 608.
    UploadRequest(UploadRequest),
    /// 608, C: the holder accepts the upload to this user; the server sends the 204.
    UploadAccept(NickFile),
    /// 609, S: to the downloader: this holder did not accept the upload.
    AcceptFailed(NickFile),
    /// 621, S: one line of the message of the day; C: send me the motd (the server ignores
    /// the text). A blank motd line is an empty 621, so one variant serves both.
    Motd(String),

    // Hotlist, resume, link speed and server ping (`presence.rs`, `resume.rs`).
    /// 207, C: add this user to my hotlist.
    HotlistAdd {
        /// The user to be told about.
        nick: String,
    },
    /// 208, C: one entry of the hotlist a client sends after login.
    HotlistInit {
        /// The user to be told about.
        nick: String,
    },
    /// 209, S: a user on your hotlist signed on, with this link type.
    UserSignon(NickLink),
    /// 210, S: a user on your hotlist signed off, or (answering a 211) is not online.
    UserSignoff {
        /// The user who left.
        nick: String,
    },
    /// 215, C: who shares a file with this md5 and size?
    ResumeRequest(ResumeRequest),
    /// 216, S: this holder does, here.
    ResumeMatch(ResumeMatch),
    /// 217, S: no more holders for the oldest resume request.
    ResumeEnd,
    /// 301, S: the user is on your hotlist now.
    HotlistAck {
        /// The user added.
        nick: String,
    },
    /// 302, S: the user could not be added to your hotlist.
    HotlistError {
        /// The user refused.
        nick: String,
    },
    /// 303, C: take this user off my hotlist.
    HotlistRemove {
        /// The user no longer to be told about.
        nick: String,
    },
    /// 600, C: what link does this user have?
    LinkSpeedRequest {
        /// The user asked about.
        nick: String,
    },
    /// 601, S: this user has this link type.
    LinkSpeed(NickLink),
    /// 750, C/S: server ping. The client's data is anything (Napster 2.0b5a sends its
    /// nick); the server's answer is empty.
    ServerPing(String),
    /// 205, C: send this text to that user; S: that user sent you this text.
    PrivateMessage {
        /// C: the recipient; S: the sender.
        nick: String,
        /// The message, the rest of the data.
        text: String,
    },
    /// 211, C: list that user's files.
    Browse {
        /// The user.
        nick: String,
        /// At most this many, if given.
        max: Option<u32>,
    },
    /// 212, S: one of the browsed user's files.
    BrowseEntry {
        /// The user who shares it.
        nick: String,
        /// The file, as its share (100) described it.
        file: FileInfo,
    },
    /// 213, S: no more files of that user.
    BrowseEnd {
        /// The user.
        nick: String,
        /// Its address, if the server says (0.0.0.0 for one that shares nothing).
        ip: Option<Ipv4Addr>,
    },
    /// 603, C: who is that user?
    Whois {
        /// The user.
        nick: String,
    },
    /// 604, S: that user, online.
    WhoisReply(WhoisInfo),
    /// 605, S: that user, offline.
    Whowas {
        /// The user.
        nick: String,
        /// Its level when last seen.
        level: String,
        /// When it was last seen, in seconds since 1970 (UNIX time).
        last_seen: u64,
    },
    /// 751, C: ping that user; S: that user pings you.
    PingUser {
        /// C: the user to ping; S: who pings.
        nick: String,
    },
    /// 752, C: answer that user's ping; S: that user answered yours.
    PongUser {
        /// C: who pinged; S: who answered.
        nick: String,
    },
}

impl Message {
    /// The type number on the wire.
    pub fn type_number(&self) -> u16 {
        match self {
            Message::Error(_) => t::ERROR,
            Message::Login { .. } => t::LOGIN,
            Message::LoginAck { .. } => t::LOGIN_ACK,
            Message::Register { .. } => t::LOGIN_REGISTER,
            Message::NickCheck { .. } => t::NICK_CHECK,
            Message::NickFree => t::NICK_FREE,
            Message::NickTaken => t::NICK_TAKEN,
            Message::NickInvalid => t::NICK_INVALID,
            Message::AddFile(_) => t::ADD_FILE,
            Message::RemoveFile { .. } => t::REMOVE_FILE,
            Message::UnshareAll => t::UNSHARE_ALL,
            Message::Search(_) => t::SEARCH,
            Message::SearchResult(_) => t::SEARCH_RESULT,
            Message::SearchEnd => t::SEARCH_END,
            Message::Download(_) => t::DOWNLOAD,
            Message::DownloadAck(_) => t::DOWNLOAD_ACK,
            Message::GetError(_) => t::GET_ERROR,
            Message::StatsRequest | Message::Stats { .. } => t::STATS,
            Message::Downloading => t::DOWNLOADING,
            Message::DownloadDone => t::DOWNLOAD_DONE,
            Message::Uploading => t::UPLOADING,
            Message::UploadDone => t::UPLOAD_DONE,
            Message::NoSuch(_) => t::NOSUCH,
            Message::DownloadFirewall(_) => t::DOWNLOAD_FIREWALL,
            Message::UploadFirewall(_) => t::UPLOAD_FIREWALL,
            Message::UploadRequest(_) => t::UPLOAD_REQUEST,
            Message::UploadAccept(_) => t::UPLOAD_ACCEPT,
            Message::AcceptFailed(_) => t::ACCEPT_FAILED,
            Message::Motd(_) => t::MOTD,

            Message::HotlistAdd { .. } => t::HOTLIST_ADD,
            Message::HotlistInit { .. } => t::HOTLIST_INIT,
            Message::UserSignon(_) => t::USER_SIGNON,
            Message::UserSignoff { .. } => t::USER_SIGNOFF,
            Message::ResumeRequest(_) => t::RESUME_REQUEST,
            Message::ResumeMatch(_) => t::RESUME_MATCH,
            Message::ResumeEnd => t::RESUME_END,
            Message::HotlistAck { .. } => t::HOTLIST_ACK,
            Message::HotlistError { .. } => t::HOTLIST_ERROR,
            Message::HotlistRemove { .. } => t::HOTLIST_REMOVE,
            Message::LinkSpeedRequest { .. } => t::LINK_SPEED_REQUEST,
            Message::LinkSpeed(_) => t::LINK_SPEED,
            Message::ServerPing(_) => t::SERVER_PING,
            Message::PrivateMessage { .. } => t::PRIVATE_MESSAGE,
            Message::Browse { .. } => t::BROWSE,
            Message::BrowseEntry { .. } => t::BROWSE_ENTRY,
            Message::BrowseEnd { .. } => t::BROWSE_END,
            Message::Whois { .. } => t::WHOIS,
            Message::WhoisReply(_) => t::WHOIS_REPLY,
            Message::Whowas { .. } => t::WHOWAS,
            Message::PingUser { .. } => t::PING_USER,
            Message::PongUser { .. } => t::PONG_USER,
        }
    }

    /// Reads a frame's data as the message its type says.
    ///
    /// # Errors
    /// [`CodecError::UnknownType`] for a type p2plab does not speak (the frame itself is
    /// sound and may be skipped); [`CodecError::Malformed`] for data that is not UTF-8 or
    /// breaks the type's layout.
    pub fn from_frame(frame: &Frame) -> Result<Self, CodecError> {
        let data = std::str::from_utf8(&frame.data)
            .map_err(|_| CodecError::malformed("data is not text"))?;
        match frame.ty {
            t::ERROR => Ok(Message::Error(data.to_owned())),
            t::LOGIN => {
                login::parse_login(data).map(|(login, build)| Message::Login { login, build })
            }
            t::LOGIN_ACK => Ok(Message::LoginAck {
                email: login::parse_word(data, "email")?,
            }),
            t::LOGIN_REGISTER => {
                login::parse_register(data).map(|(login, email)| Message::Register { login, email })
            }
            t::NICK_CHECK => Ok(Message::NickCheck {
                nick: login::parse_word(data, "nick")?,
            }),
            t::ADD_FILE => share::parse_share(data).map(Message::AddFile),
            t::REMOVE_FILE => share::parse_remove(data).map(|name| Message::RemoveFile { name }),
            t::SEARCH => SearchRequest::parse(data).map(Message::Search),
            t::SEARCH_RESULT => SearchResult::parse(data).map(Message::SearchResult),
            t::DOWNLOAD => NickFile::parse(data).map(Message::Download),
            t::DOWNLOAD_ACK => Endpoint::parse(data).map(Message::DownloadAck),
            t::GET_ERROR => NickFile::parse(data).map(Message::GetError),
            t::STATS if data.is_empty() => Ok(Message::StatsRequest),
            t::STATS => parse_stats(data),
            t::NOSUCH => Ok(Message::NoSuch(data.to_owned())),
            t::DOWNLOAD_FIREWALL => NickFile::parse(data).map(Message::DownloadFirewall),
            t::UPLOAD_FIREWALL => Endpoint::parse(data).map(Message::UploadFirewall),
            t::UPLOAD_REQUEST => UploadRequest::parse(data).map(Message::UploadRequest),
            t::UPLOAD_ACCEPT => NickFile::parse(data).map(Message::UploadAccept),
            t::ACCEPT_FAILED => upload::parse_accept_failed(data).map(Message::AcceptFailed),
            t::MOTD => Ok(Message::Motd(data.to_owned())),

            t::HOTLIST_ADD => nick(data).map(|nick| Message::HotlistAdd { nick }),
            t::HOTLIST_INIT => nick(data).map(|nick| Message::HotlistInit { nick }),
            t::USER_SIGNON => NickLink::parse(data).map(Message::UserSignon),
            t::USER_SIGNOFF => nick(data).map(|nick| Message::UserSignoff { nick }),
            t::RESUME_REQUEST => ResumeRequest::parse(data).map(Message::ResumeRequest),
            t::RESUME_MATCH => ResumeMatch::parse(data).map(Message::ResumeMatch),
            t::HOTLIST_ACK => nick(data).map(|nick| Message::HotlistAck { nick }),
            t::HOTLIST_ERROR => nick(data).map(|nick| Message::HotlistError { nick }),
            t::HOTLIST_REMOVE => nick(data).map(|nick| Message::HotlistRemove { nick }),
            t::LINK_SPEED_REQUEST => nick(data).map(|nick| Message::LinkSpeedRequest { nick }),
            t::LINK_SPEED => NickLink::parse(data).map(Message::LinkSpeed),
            t::SERVER_PING => Ok(Message::ServerPing(data.to_owned())),

            t::PRIVATE_MESSAGE => {
                user::parse_private(data).map(|(nick, text)| Message::PrivateMessage { nick, text })
            }
            t::BROWSE => user::parse_browse(data).map(|(nick, max)| Message::Browse { nick, max }),
            t::BROWSE_ENTRY => user::parse_browse_entry(data)
                .map(|(nick, file)| Message::BrowseEntry { nick, file }),
            t::BROWSE_END => {
                user::parse_browse_end(data).map(|(nick, ip)| Message::BrowseEnd { nick, ip })
            }
            t::WHOIS => Ok(Message::Whois {
                nick: login::parse_word(data, "nick")?,
            }),
            t::WHOIS_REPLY => WhoisInfo::parse(data).map(Message::WhoisReply),
            t::WHOWAS => user::parse_whowas(data).map(|(nick, level, last_seen)| Message::Whowas {
                nick,
                level,
                last_seen,
            }),
            t::PING_USER => Ok(Message::PingUser {
                nick: login::parse_word(data, "nick")?,
            }),
            t::PONG_USER => Ok(Message::PongUser {
                nick: login::parse_word(data, "nick")?,
            }),
            ty => empty_message(ty, data),
        }
    }

    /// The data part, as text.
    pub fn data(&self) -> String {
        let mut out = String::new();
        match self {
            Message::Error(text) | Message::NoSuch(text) | Message::Motd(text) => {
                out.push_str(text)
            }
            Message::Login { login, build } => {
                login.write(&mut out);
                if let Some(build) = build {
                    let _ = write!(out, " {build}");
                }
            }
            Message::LoginAck { email } => out.push_str(email),
            Message::Register { login, email } => {
                login.write(&mut out);
                let _ = write!(out, " {email}");
            }
            Message::NickCheck { nick } => out.push_str(nick),
            Message::AddFile(info) => info.write(&mut out),
            Message::RemoveFile { name } => out.push_str(name),
            Message::Search(request) => request.write(&mut out),
            Message::SearchResult(result) => result.write(&mut out),
            Message::Download(nf)
            | Message::GetError(nf)
            | Message::DownloadFirewall(nf)
            | Message::UploadAccept(nf)
            | Message::AcceptFailed(nf) => nf.write(&mut out),
            Message::UploadRequest(request) => request.write(&mut out),
            Message::DownloadAck(ep) | Message::UploadFirewall(ep) => ep.write(&mut out),
            Message::Stats {
                users,
                files,
                gigabytes,
            } => {
                let _ = write!(out, "{users} {files} {gigabytes}");
            }
            Message::NickFree
            | Message::NickTaken
            | Message::NickInvalid
            | Message::UnshareAll
            | Message::SearchEnd
            | Message::StatsRequest
            | Message::Downloading
            | Message::DownloadDone
            | Message::Uploading
            | Message::UploadDone => {}

            Message::HotlistAdd { nick }
            | Message::HotlistInit { nick }
            | Message::UserSignoff { nick }
            | Message::HotlistAck { nick }
            | Message::HotlistError { nick }
            | Message::HotlistRemove { nick }
            | Message::LinkSpeedRequest { nick } => out.push_str(nick),
            Message::UserSignon(nl) | Message::LinkSpeed(nl) => nl.write(&mut out),
            Message::ResumeRequest(request) => request.write(&mut out),
            Message::ResumeMatch(found) => found.write(&mut out),
            Message::ResumeEnd => {}
            Message::ServerPing(text) => out.push_str(text),
            Message::PrivateMessage { nick, text } => {
                let _ = write!(out, "{nick} {text}");
            }
            Message::Whois { nick } | Message::PingUser { nick } | Message::PongUser { nick } => {
                out.push_str(nick)
            }
            Message::Browse { nick, max } => {
                out.push_str(nick);
                if let Some(max) = max {
                    let _ = write!(out, " {max}");
                }
            }
            Message::BrowseEntry { nick, file } => {
                let _ = write!(out, "{nick} ");
                file.write(&mut out);
            }
            Message::BrowseEnd { nick, ip } => {
                out.push_str(nick);
                if let Some(ip) = ip {
                    let _ = write!(out, " {}", crate::ip::to_wire(*ip));
                }
            }
            Message::WhoisReply(info) => info.write(&mut out),
            Message::Whowas {
                nick,
                level,
                last_seen,
            } => {
                let _ = write!(out, "{nick} \"{level}\" {last_seen}");
            }
        }
        out
    }

    /// The message in its frame.
    pub fn to_frame(&self) -> Frame {
        Frame {
            ty: self.type_number(),
            data: self.data().into_bytes(),
        }
    }
}

/// The types whose data is empty; anything else is unknown.
fn empty_message(ty: u16, data: &str) -> Result<Message, CodecError> {
    let msg = match ty {
        t::NICK_FREE => Message::NickFree,
        t::NICK_TAKEN => Message::NickTaken,
        t::NICK_INVALID => Message::NickInvalid,
        t::UNSHARE_ALL => Message::UnshareAll,
        t::SEARCH_END => Message::SearchEnd,
        t::DOWNLOADING => Message::Downloading,
        t::DOWNLOAD_DONE => Message::DownloadDone,
        t::UPLOADING => Message::Uploading,
        t::UPLOAD_DONE => Message::UploadDone,
        t::RESUME_END => Message::ResumeEnd,
        other => return Err(CodecError::UnknownType(u32::from(other))),
    };
    if data.is_empty() {
        Ok(msg)
    } else {
        Err(CodecError::malformed(format!("type {ty} carries no data")))
    }
}

/// Reads a message whose data is one nick (207, 208, 210, 301, 302, 303, 600).
fn nick(data: &str) -> Result<String, CodecError> {
    login::parse_word(data, "nick")
}

/// Reads a server's 214: `<users> <files> <GB>`.
fn parse_stats(data: &str) -> Result<Message, CodecError> {
    let mut f = Fields::new(data);
    let msg = Message::Stats {
        users: f.number("users")?,
        files: f.number("files")?,
        gigabytes: f.number("gigabytes")?,
    };
    f.finish()?;
    Ok(msg)
}

impl WireMessage for Message {
    fn decode(buf: &[u8]) -> Result<(Self, usize), CodecError> {
        let (frame, used) = Frame::decode(buf)?;
        Ok((Message::from_frame(&frame)?, used))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        self.to_frame().encode(out);
    }

    fn encoded_len(&self) -> usize {
        HEADER_LEN + self.data().len()
    }

    type Kind = Kind;

    fn kind(&self) -> Kind {
        match self {
            Message::Error(_) => Kind::Error,
            Message::Login { .. } => Kind::Login,
            Message::LoginAck { .. } => Kind::LoginAck,
            Message::Register { .. } => Kind::Register,
            Message::NickCheck { .. } => Kind::NickCheck,
            Message::NickFree => Kind::NickFree,
            Message::NickTaken => Kind::NickTaken,
            Message::NickInvalid => Kind::NickInvalid,
            Message::AddFile(_) => Kind::AddFile,
            Message::RemoveFile { .. } => Kind::RemoveFile,
            Message::UnshareAll => Kind::UnshareAll,
            Message::Search(_) => Kind::Search,
            Message::SearchResult(_) => Kind::SearchResult,
            Message::SearchEnd => Kind::SearchEnd,
            Message::Download(_) => Kind::Download,
            Message::DownloadAck(_) => Kind::DownloadAck,
            Message::GetError(_) => Kind::GetError,
            Message::StatsRequest => Kind::StatsRequest,
            Message::Stats { .. } => Kind::Stats,
            Message::Downloading => Kind::Downloading,
            Message::DownloadDone => Kind::DownloadDone,
            Message::Uploading => Kind::Uploading,
            Message::UploadDone => Kind::UploadDone,
            Message::NoSuch(_) => Kind::NoSuch,
            Message::DownloadFirewall(_) => Kind::DownloadFirewall,
            Message::UploadFirewall(_) => Kind::UploadFirewall,
            Message::UploadRequest(_) => Kind::UploadRequest,
            Message::UploadAccept(_) => Kind::UploadAccept,
            Message::AcceptFailed(_) => Kind::AcceptFailed,
            Message::Motd(_) => Kind::Motd,

            Message::HotlistAdd { .. } => Kind::HotlistAdd,
            Message::HotlistInit { .. } => Kind::HotlistInit,
            Message::UserSignon(_) => Kind::UserSignon,
            Message::UserSignoff { .. } => Kind::UserSignoff,
            Message::ResumeRequest(_) => Kind::ResumeRequest,
            Message::ResumeMatch(_) => Kind::ResumeMatch,
            Message::ResumeEnd => Kind::ResumeEnd,
            Message::HotlistAck { .. } => Kind::HotlistAck,
            Message::HotlistError { .. } => Kind::HotlistError,
            Message::HotlistRemove { .. } => Kind::HotlistRemove,
            Message::LinkSpeedRequest { .. } => Kind::LinkSpeedRequest,
            Message::LinkSpeed(_) => Kind::LinkSpeed,
            Message::ServerPing(_) => Kind::ServerPing,
            Message::PrivateMessage { .. } => Kind::PrivateMessage,
            Message::Browse { .. } => Kind::Browse,
            Message::BrowseEntry { .. } => Kind::BrowseEntry,
            Message::BrowseEnd { .. } => Kind::BrowseEnd,
            Message::Whois { .. } => Kind::Whois,
            Message::WhoisReply(_) => Kind::WhoisReply,
            Message::Whowas { .. } => Kind::Whowas,
            Message::PingUser { .. } => Kind::PingUser,
            Message::PongUser { .. } => Kind::PongUser,
        }
    }
}

#[cfg(test)]
mod tests;
