/**
 * A NestJS microservice, written as Nest's docs write one, with the Kafka transport's default
 * configuration. Nothing here knows about kafkalite: Nest imports `kafkajs`, and the test
 * (orders.test.ts) hands it `kafkalite/kafkajs` instead.
 *
 * - `@MessagePattern('orders.total')`: request-reply. Nest answers on `orders.total.reply`, to the
 *   partition the asking client named in the request's headers.
 * - `@EventPattern('orders.placed')`: an event, handled by one server of the group.
 */
import 'reflect-metadata';
import { Controller, Injectable, Module } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, MessagePattern, Payload } from '@nestjs/microservices';

export interface OrderLine {
  sku: string;
  quantity: number;
  unitCents: number;
}

export interface TotalRequest {
  requestId: string;
  lines: OrderLine[];
}

export interface PlacedOrder {
  orderId: string;
  customer: string;
}

/** What this server handled: requests answered, events recorded (with the partition each came from). */
@Injectable()
export class Ledger {
  readonly requests: string[] = [];
  readonly events: { orderId: string; partition: number }[] = [];
  #listeners = new Set<() => void>();

  answered(requestId: string): void {
    this.requests.push(requestId);
    this.#changed();
  }

  recorded(orderId: string, partition: number): void {
    this.events.push({ orderId, partition });
    this.#changed();
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

@Controller()
export class OrdersController {
  // Constructor injection by type: needs the decorator metadata tsconfig.json asks for.
  constructor(private readonly ledger: Ledger) {}

  @MessagePattern('orders.total')
  total(@Payload() request: TotalRequest): { requestId: string; totalCents: number } {
    this.ledger.answered(request.requestId);
    return { requestId: request.requestId, totalCents: request.lines.reduce((sum, l) => sum + l.quantity * l.unitCents, 0) };
  }

  // <string>: the untyped overload; Nest 12's typed one wants every argument after the payload typed `unknown`.
  @EventPattern<string>('orders.placed')
  placed(@Payload() order: PlacedOrder, @Ctx() context: KafkaContext): void {
    this.ledger.recorded(order.orderId, context.getPartition());
  }
}

@Module({ controllers: [OrdersController], providers: [Ledger] })
export class OrdersModule {}
