/// The controllers module; see ControllerManager.swift.
