/**
 * A tagged field that the decoder did not know (a newer client's, or one not valid at the decoded
 * version). Decoders keep such fields in `unknownTaggedFields` and encoders write them back in tag
 * order, so a message that passes through kafkalite loses nothing. `data` aliases the frame.
 */
export interface RawTaggedField {
  readonly tag: number;
  readonly data: Uint8Array;
}
