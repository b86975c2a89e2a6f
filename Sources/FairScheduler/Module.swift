/// The scheduler module; see Scheduler.swift.
