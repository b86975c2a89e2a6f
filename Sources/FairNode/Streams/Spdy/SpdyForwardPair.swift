/// One forwarded connection of a SPDY port-forward: the client's error stream and data stream
/// for one request id, and, once both are here, the connection to the pod behind them. Its
/// life, as kubelet with containerd runs it:
///
/// 1. The streams arrive (within `pairingTimeout` of the first), then the pod port is dialled.
/// 2. A pump sends what the pod writes as DATA on the data stream, and its FIN at the pod's EOF.
///    Client DATA goes to the pod; the client's FIN half-closes the pod connection.
/// 3. Both directions done, a second after the pod's EOF, or either stream reset by the client:
///    the connection is closed and the error stream gets its FIN, which kubectl waits for.
struct SpdyForwardPair {
    /// kubelet's `streamCreationTimeout`: kubectl itself gives up on a stream after 30 s.
    static let pairingTimeout: Duration = .seconds(30)
    /// How long the client may go on sending after the pod's EOF, as containerd waits a second
    /// for the other direction before closing the connection.
    static let lingerAfterPodEnd: Duration = .seconds(1)
    /// Client data held while the pair is still missing a stream; kubectl sends none then.
    static let maximumEarlyInput = 1 << 20

    /// Tells apart pairs that reuse a request id, for events that arrive late.
    let serial: Int
    let requestID: String
    var errorStream: UInt32?
    var dataStream: UInt32?
    /// The data stream's port: the one dialled.
    var port: UInt16 = 0

    var pairingTimer: Task<Void, Never>?
    var lingerTimer: Task<Void, Never>?
    var dial: Task<Result<PodConnection, PodConnection.DialError>, Never>?
    /// The dial's outcome has been acted on (it is awaited from two places).
    var dialApplied = false
    var connection: PodConnection?
    var pump: SpdyDataPump?
    var pumpEnded = false
    var earlyInput: [UInt8] = []

    /// The client sent FIN on the data stream: the pod connection is half-closed.
    var clientFinished = false
    /// The pod stopped taking input; later client data is dropped.
    var podRefusesInput = false
    var dataReset = false
    var errorReset = false
    /// Ending: waiting for the pump or the dial to finish before the pair is dropped.
    var closing = false

    init(serial: Int, requestID: String) {
        self.serial = serial
        self.requestID = requestID
    }

    var isComplete: Bool { errorStream != nil && dataStream != nil }

    /// Whether the dial is under way and not yet acted on.
    var isDialing: Bool { dial != nil && !dialApplied }
}
