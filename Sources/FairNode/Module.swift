/// The node agent module; see NodeAgent.swift.
