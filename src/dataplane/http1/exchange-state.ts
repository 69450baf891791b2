// Constants shared by the files that serve one HTTP/1.1 exchange of an Http1Conn (connection.ts
// and the files named at its class).

export const CRLFCRLF = Buffer.from('\r\n\r\n');
/**
 * Reads up to this size are taken as one latin1 string at once: the head is found and parsed
 * in it, and a small response goes out as one string (head + body), without a Buffer to
 * assemble it. Larger reads keep the Buffer path, so big bodies are not copied into strings.
 */
export const SMALL_READ = 8192;
/** A local answer leaves a request body this large unread: close instead of reading it all. */
export const MAX_DISCARD = 64 * 1024;

// Response stages (Http1Conn.respStage).
export const R_HEAD = 0;
export const R_BODY = 1;
export const R_DONE = 2;
