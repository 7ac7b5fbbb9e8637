//! [`Kind`]: the kinds of message Napster metrics count, each named once.
//!
//! Kinds are not type numbers: 214 is both a stats request (empty) and its answer.

use p2plab_peer_protocol::{Cause, MessageKind};

/// One kind per [`Message`](super::Message) variant, without its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 0, S: a login was refused; the server closes the connection after it.
    Error,
    /// 2, C: log in.
    Login,
    /// 3, S: logged in.
    LoginAck,
    /// 6, C: register the nick and log in.
    Register,
    /// 7, C: is this nick free?
    NickCheck,
    /// 8, S: the nick is free.
    NickFree,
    /// 9, S: the nick is already registered.
    NickTaken,
    /// 10, S: the nick is invalid.
    NickInvalid,
    /// 100, C: share this file.
    AddFile,
    /// 102, C: stop sharing this file.
    RemoveFile,
    /// 110, C: stop sharing every file.
    UnshareAll,
    /// 200, C: search.
    Search,
    /// 201, S: one hit.
    SearchResult,
    /// 202, S: no more hits for the oldest search.
    SearchEnd,
    /// 203, C: where can I download this file from this user?
    Download,
    /// 204, S: from this address and data port.
    DownloadAck,
    /// 206, S: that user or file is unavailable.
    GetError,
    /// 214, C: how big is the server? (no data)
    StatsRequest,
    /// 214, S: this big.
    Stats,
    /// 218, C: a download started.
    Downloading,
    /// 219, C: a download ended.
    DownloadDone,
    /// 220, C: an upload started.
    Uploading,
    /// 221, C: an upload ended.
    UploadDone,
    /// 404, S: an error after login, as text.
    NoSuch,
    /// 500, C: the holder is firewalled; ask it to push the file to me.
    DownloadFirewall,
    /// 501, S: to a firewalled holder: connect to this downloader and send the file.
    UploadFirewall,
    /// 607, S: to the holder: this user asks for this file.
    UploadRequest,
    /// 608, C: the holder accepts the upload.
    UploadAccept,
    /// 609, S: to the downloader: the holder did not accept.
    AcceptFailed,
    /// 621, S: a line of the message of the day (C: a request for it).
    Motd,

    // Hotlist, resume, link speed and server ping.
    /// 207, C: add this user to my hotlist.
    HotlistAdd,
    /// 208, C: one entry of the hotlist sent after login.
    HotlistInit,
    /// 209, S: a user on your hotlist signed on.
    UserSignon,
    /// 210, S: a user on your hotlist signed off, or (answering a 211) is not online.
    UserSignoff,
    /// 215, C: who shares a file with this md5 and size?
    ResumeRequest,
    /// 216, S: this holder does.
    ResumeMatch,
    /// 217, S: no more holders.
    ResumeEnd,
    /// 301, S: the user is on your hotlist now.
    HotlistAck,
    /// 302, S: the user could not be added to your hotlist.
    HotlistError,
    /// 303, C: take this user off my hotlist.
    HotlistRemove,
    /// 600, C: what link does this user have?
    LinkSpeedRequest,
    /// 601, S: this link type.
    LinkSpeed,
    /// 750, C/S: server ping and its answer.
    ServerPing,
    /// 205, C/S: a private message.
    PrivateMessage,
    /// 211, C: list that user's files.
    Browse,
    /// 212, S: one of the browsed user's files.
    BrowseEntry,
    /// 213, S: no more files of that user.
    BrowseEnd,
    /// 603, C: who is that user?
    Whois,
    /// 604, S: that user, online.
    WhoisReply,
    /// 605, S: that user, offline.
    Whowas,
    /// 751, C/S: ping a user.
    PingUser,
    /// 752, C/S: a user's answer to a ping.
    PongUser,
}

impl MessageKind for Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Error => "error",
            Kind::Login => "login",
            Kind::LoginAck => "login_ack",
            Kind::Register => "register",
            Kind::NickCheck => "nick_check",
            Kind::NickFree => "nick_free",
            Kind::NickTaken => "nick_taken",
            Kind::NickInvalid => "nick_invalid",
            Kind::AddFile => "share",
            Kind::RemoveFile => "unshare",
            Kind::UnshareAll => "unshare_all",
            Kind::Search => "search",
            Kind::SearchResult => "search_result",
            Kind::SearchEnd => "search_end",
            Kind::Download => "download",
            Kind::DownloadAck => "download_ack",
            Kind::GetError => "get_error",
            Kind::StatsRequest => "stats_request",
            Kind::Stats => "stats",
            Kind::Downloading => "downloading",
            Kind::DownloadDone => "download_done",
            Kind::Uploading => "uploading",
            Kind::UploadDone => "upload_done",
            Kind::NoSuch => "nosuch",
            Kind::DownloadFirewall => "download_firewall",
            Kind::UploadFirewall => "upload_firewall",
            Kind::UploadRequest => "upload_request",
            Kind::UploadAccept => "upload_accept",
            Kind::AcceptFailed => "accept_failed",
            Kind::Motd => "motd",

            Kind::HotlistAdd => "hotlist_add",
            Kind::HotlistInit => "hotlist_init",
            Kind::UserSignon => "user_signon",
            Kind::UserSignoff => "user_signoff",
            Kind::ResumeRequest => "resume_request",
            Kind::ResumeMatch => "resume_match",
            Kind::ResumeEnd => "resume_end",
            Kind::HotlistAck => "hotlist_ack",
            Kind::HotlistError => "hotlist_error",
            Kind::HotlistRemove => "hotlist_remove",
            Kind::LinkSpeedRequest => "link_speed_request",
            Kind::LinkSpeed => "link_speed",
            Kind::ServerPing => "server_ping",
            Kind::PrivateMessage => "private_message",
            Kind::Browse => "browse",
            Kind::BrowseEntry => "browse_entry",
            Kind::BrowseEnd => "browse_end",
            Kind::Whois => "whois",
            Kind::WhoisReply => "whois_reply",
            Kind::Whowas => "whowas",
            Kind::PingUser => "ping_user",
            Kind::PongUser => "pong_user",
        }
    }

    /// A Napster message says by its type what it serves, so its sender charges it: a
    /// search, its results and their end serve a search, and so does a resume request (a
    /// search by md5 and size) with its matches and their end, and a browse with its entries
    /// (they list files to fetch, as results do); a download request, its answer or
    /// refusal, the holder's asking and accepting (607, 608, 609), a push request and the
    /// transfer notices serve a fetch; the rest (logging in and the motd, sharing, stats,
    /// errors, the hotlist, link speeds, server pings, whois, user pings and private
    /// messages) is upkeep.
    fn cause(self) -> Option<Cause> {
        Some(match self {
            Kind::Search | Kind::SearchResult | Kind::SearchEnd => Cause::Search,
            Kind::Download
            | Kind::DownloadAck
            | Kind::GetError
            | Kind::Downloading
            | Kind::DownloadDone
            | Kind::Uploading
            | Kind::UploadDone
            | Kind::DownloadFirewall
            | Kind::UploadFirewall
            | Kind::UploadRequest
            | Kind::UploadAccept
            | Kind::AcceptFailed => Cause::Fetch,
            Kind::Error
            | Kind::Login
            | Kind::LoginAck
            | Kind::Register
            | Kind::NickCheck
            | Kind::NickFree
            | Kind::NickTaken
            | Kind::NickInvalid
            | Kind::AddFile
            | Kind::RemoveFile
            | Kind::UnshareAll
            | Kind::StatsRequest
            | Kind::Stats
            | Kind::NoSuch
            | Kind::Motd => Cause::Upkeep,

            Kind::ResumeRequest | Kind::ResumeMatch | Kind::ResumeEnd => Cause::Search,
            Kind::HotlistAdd
            | Kind::HotlistInit
            | Kind::UserSignon
            | Kind::UserSignoff
            | Kind::HotlistAck
            | Kind::HotlistError
            | Kind::HotlistRemove
            | Kind::LinkSpeedRequest
            | Kind::LinkSpeed
            | Kind::ServerPing => Cause::Upkeep,
            Kind::Browse | Kind::BrowseEntry | Kind::BrowseEnd => Cause::Search,
            Kind::PrivateMessage
            | Kind::Whois
            | Kind::WhoisReply
            | Kind::Whowas
            | Kind::PingUser
            | Kind::PongUser => Cause::Upkeep,
        })
    }
}
