/**
 * The other side of orders.module.ts: an application that asks the orders service for totals
 * (request-reply) and announces placed orders (events), through Nest's `ClientKafka` with the
 * Kafka transport's default configuration — which is what installs Nest's reply-partition
 * assigner on the client's consumer group.
 */
import 'reflect-metadata';
import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { ClientKafka, ClientsModule, Transport } from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import type { OrderLine, PlacedOrder, TotalRequest } from './orders.module.js';

export const ORDERS_CLIENT = 'ORDERS_CLIENT';

@Injectable()
export class OrdersGateway implements OnModuleInit {
  constructor(@Inject(ORDERS_CLIENT) readonly client: ClientKafka) {}

  async onModuleInit(): Promise<void> {
    this.client.subscribeToResponseOf('orders.total');
    await this.client.connect();
  }

  /** Request-reply: resolves with the orders service's answer. */
  async total(requestId: string, lines: OrderLine[]): Promise<{ requestId: string; totalCents: number }> {
    const request: TotalRequest = { requestId, lines };
    return firstValueFrom(this.client.send('orders.total', request));
  }

  /** An event: resolves once it is written. */
  async placed(order: PlacedOrder): Promise<void> {
    await lastValueFrom(this.client.emit('orders.placed', order), { defaultValue: undefined });
  }
}

/** The Kafka transport as Nest's docs configure it: the brokers, and Nest's defaults for the rest. */
export const KAFKA_OPTIONS = { client: { brokers: ['localhost:9092'] } };

@Module({
  imports: [
    // Nest's defaults beyond the brokers: client id 'nestjs-consumer-client', consumer group
    // 'nestjs-group-client', Nest's reply-partition assigner. (registerAsync makes one client per
    // application instance; `register` would share one between every app built from the module.)
    ClientsModule.registerAsync([{ name: ORDERS_CLIENT, useFactory: () => ({ transport: Transport.KAFKA, options: KAFKA_OPTIONS }) }]),
  ],
  providers: [OrdersGateway],
})
export class GatewayModule {}
