import Hummingbird

/// Builds the whole HTTP surface. Errors anywhere (unknown routes too) go
/// through `ErrorMiddleware`; `/v1` routes go through `AuthMiddleware`.
public func buildRouter(_ environment: APIEnvironment) -> Router<KilnRequestContext> {
    let router = Router(context: KilnRequestContext.self)
    // Metrics outermost: it records the status clients get, after errors became responses.
    router.middlewares.add(MetricsMiddleware())
    let index = RouteIndex()
    router.middlewares.add(ErrorMiddleware(routes: index))
    SystemRoutes(environment: environment).register(on: router)
    PlaybackRoutes(environment: environment).register(on: router)
    ConsoleRoutes().register(on: router)
    ImageRoutes(environment: environment).register(on: router)
    // A browser's preflight carries no bearer key, so it is answered before authentication.
    router.on("v1/jobs/:id/files/**", method: .options) { _, _ in OutputDelivery.preflight() }
    let v1 = router.group("v1")
        .add(middleware: ReadinessMiddleware(readiness: environment.readiness))
        .add(middleware: AuthMiddleware(keys: environment.keys, limiter: environment.rateLimiter, store: environment.store))
    UploadRoutes(environment: environment).register(on: v1)
    TusRoutes(environment: environment).register(on: v1)
    MediaRoutes(environment: environment).register(on: v1)
    JobRoutes(environment: environment).register(on: v1)
    JobBatchRoutes(environment: environment).register(on: v1)
    PipelineRoutes(environment: environment).register(on: v1)
    AuditRoutes(environment: environment).register(on: v1)
    WebhookSecretRoutes(environment: environment).register(on: v1)
    LinkRoutes(environment: environment).register(on: v1, router: router)
    index.load(router.routes)
    return router
}
