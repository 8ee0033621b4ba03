"""Infrastructure components, one concept each: request queues (login services, school
servers), conference node pools, the dispatcher, and the platform that ties them together."""
