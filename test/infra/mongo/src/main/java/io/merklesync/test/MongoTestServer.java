package io.merklesync.test;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/** In-memory MongoDB-wire server with an oplog (change streams) on 127.0.0.1:<port>, until killed. */
public final class MongoTestServer {
    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 27117;
        MemoryBackend backend = new MemoryBackend();
        backend.enableOplog();
        MongoServer server = new MongoServer(backend);
        server.bind("127.0.0.1", port);
        System.out.println("mongo-test-server listening on 127.0.0.1:" + port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        Thread.currentThread().join();
    }
}
