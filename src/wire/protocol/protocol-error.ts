/**
 * The one error the wire codecs throw: a frame that cannot be decoded (cut short, a length that
 * points past the end, a null where the version forbids one, an unknown API) or a value that cannot
 * be encoded. A listener answers it by closing the connection, as Kafka's broker does, so the
 * message says where in the frame and why rather than carrying machine-readable fields.
 *
 * Concurrency: an immutable value; codecs throw it synchronously.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
