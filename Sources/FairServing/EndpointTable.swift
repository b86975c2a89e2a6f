import FairKube
import NIOConcurrencyHelpers

/// Every Service's route, by namespace and name. The Service and Endpoints informers write it
/// (tests may too); every proxied request reads it, so a lookup is one short lock, two hashes
/// and no allocation (Substring keys: the request's path is never copied to look it up).
public final class EndpointTable: Sendable {
    private let routes = NIOLockedValueBox<[Substring: [Substring: ServiceRoute]]>([:])

    public init() {}

    public func route(namespace: Substring, name: Substring) -> ServiceRoute? {
        routes.withLockedValue { $0[namespace]?[name] }
    }

    public func route(namespace: String, name: String) -> ServiceRoute? {
        route(namespace: Substring(namespace), name: Substring(name))
    }

    /// Recomputes one Service's route from its objects as they are now (level-triggered: the
    /// event that caused it does not matter). Without a Service there is no route, whatever
    /// Endpoints are left behind.
    @discardableResult
    public func update(namespace: String, name: String, service: JSONValue?, endpoints: JSONValue?) -> ServiceRoute? {
        let route = service.map { ServiceRoute(service: $0, endpoints: endpoints) }
        let namespace = Substring(namespace), name = Substring(name)
        routes.withLockedValue { routes in
            if let route {
                routes[namespace, default: [:]][name] = route
            } else {
                routes[namespace]?[name] = nil
                if routes[namespace]?.isEmpty == true { routes[namespace] = nil }
            }
        }
        return route
    }

    /// Every Service's route as it is now.
    public func allRoutes() -> [ServiceRoute] {
        routes.withLockedValue { routes in routes.values.flatMap { Array($0.values) } }
    }

    /// Every backend any Service routes to now.
    public func backends() -> Set<Backend> {
        let routes = self.routes.withLockedValue { $0 }
        var all = Set<Backend>()
        for services in routes.values {
            for route in services.values {
                for port in route.ports { all.formUnion(port.backends) }
            }
        }
        return all
    }
}
